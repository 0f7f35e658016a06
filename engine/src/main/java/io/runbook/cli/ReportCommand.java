package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.RunbookException;
import io.runbook.journal.JournalReader;
import io.runbook.journal.RunSummary;
import io.runbook.report.HtmlReport;
import io.runbook.report.ReportReader;
import io.runbook.report.RunReport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Write a run (or rehearsal) as one self-contained HTML page: who ran what and how it ended, the "
          + "recap, a timeline of every host's steps (batches, gates, failures and rollbacks in colour) and each "
          + "step's output tail.",
      "The page has no scripts, fonts or links outside itself: it opens offline and can be attached to a ticket. "
          + "Prints the file's path."
    })
final class ReportCommand implements Callable<Integer> {
  static final String FILE = "report.html";

  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "RUN_ID",
      description =
          "The run's id, a prefix of it that only one run has, or 'last' (see runbook history).")
  String runId;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "Where to write the page (default: " + FILE + " beside the run's journal).")
  Path output;

  @Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      paramLabel = "DIR",
      description = "Where run journals are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Override
  public Integer call() {
    RunSummary found = JournalReader.find(stateDir, runId);
    RunReport report = ReportReader.read(found.journal());
    String html = HtmlReport.render(report, new Main.Version().getVersion()[0], Instant.now());
    Path target = output != null ? output : found.journal().resolveSibling(FILE);
    write(target, html);
    spec.commandLine().getOut().println(target);
    return 0;
  }

  /**
   * Whole or not at all: a browser reloading the page never sees half of it. The page holds what
   * the journal holds (output tails), so it is the owner's only, like the journal.
   */
  private static void write(Path target, String html) {
    try {
      PrivateFiles.write(target, html);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "cannot write the report to " + target + ": " + e + " (pass -o with a writable path)",
          e);
    }
  }
}
