package io.runbook.cli;

import io.runbook.journal.EventJson;
import io.runbook.journal.JournalReader;
import io.runbook.journal.RunSummary;
import io.runbook.rehearsal.RehearsalVerdict;
import io.runbook.yaml.Durations;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "history",
    mixinStandardHelpOptions = true,
    description = {
      "List past runs from their journals, newest first: when, which runbook, how many hosts and how "
          + "each host ended.",
      "A run whose controller was killed (no end in its journal) shows as interrupted; 'runbook show RUN_ID' "
          + "tells where each host got to."
    })
final class HistoryCommand implements Callable<Integer> {
  static final DateTimeFormatter STARTED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      paramLabel = "DIR",
      description = "Where run journals are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = {"-n", "--last"},
      defaultValue = "20",
      paramLabel = "N",
      description = "Show the N newest runs (default ${DEFAULT-VALUE}); 0 for all.")
  int limit;

  @Option(names = "--json", description = "Print the runs as a JSON array instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Path> journals = JournalReader.journals(stateDir);
    List<Path> shown = limit > 0 && journals.size() > limit ? journals.subList(0, limit) : journals;
    List<RunSummary> runs = shown.stream().map(JournalReader::read).toList();
    if (json) {
      out.println(
          EventJson.mapper()
              .writerWithDefaultPrettyPrinter()
              .writeValueAsString(runs.stream().map(RunSummary::withoutSteps).toList()));
      return 0;
    }
    if (runs.isEmpty()) {
      out.println(
          "no runs in "
              + stateDir.resolve("runs")
              + " yet ('runbook apply' journals each run there; "
              + "pass --state-dir if they went elsewhere)");
      return 0;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"RUN ID", "STARTED", "RUNBOOK", "HOSTS", "RESULT", "DURATION"});
    for (RunSummary r : runs) {
      rows.add(
          new String[] {
            r.runId(),
            started(r.started()),
            r.runbook() == null ? "-" : r.runbook(),
            Integer.toString(r.hosts().size()),
            result(r),
            duration(r.durationMillis())
          });
    }
    table(out, rows, 3);
    if (shown.size() < journals.size()) {
      out.println("(" + shown.size() + " of " + journals.size() + " runs; -n 0 lists all)");
    }
    return 0;
  }

  /**
   * A run's one-line result; a rehearsal's is its verdict (the journal alone shows hosts that were
   * upgraded and then rolled back, on disposable copies, which is what a rehearsal does when it
   * passes).
   */
  static String result(RunSummary r) {
    return rehearsal(r).map(v -> v.outcome() + " (on disposable copies)").orElse(r.tally());
  }

  static Optional<RehearsalVerdict> rehearsal(RunSummary r) {
    return r.journal() == null ? Optional.empty() : RehearsalVerdict.read(r.journal().getParent());
  }

  /**
   * Prints {@code rows} (the first is the header) in columns as wide as their widest cell, the
   * columns {@code right} aligned right.
   */
  static void table(PrintWriter out, List<String[]> rows, int... right) {
    int[] width = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int c = 0; c < width.length; c++) width[c] = Math.max(width[c], row[c].length());
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < width.length; c++) {
        String pad = " ".repeat(width[c] - row[c].length());
        boolean r = false;
        for (int i : right) r |= i == c;
        line.append(c == 0 ? "" : "  ").append(r ? pad + row[c] : row[c] + pad);
      }
      out.println(line.toString().stripTrailing());
    }
  }

  static String started(Instant at) {
    return at == null ? "-" : STARTED.format(at.atZone(ZoneId.systemDefault()));
  }

  static String duration(long millis) {
    return Durations.format(Duration.ofMillis(millis));
  }
}
