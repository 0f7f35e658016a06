package io.runbook.cli;

import io.runbook.journal.EventJson;
import io.runbook.journal.HostSummary;
import io.runbook.journal.JournalEvents;
import io.runbook.journal.JournalReader;
import io.runbook.journal.RunSummary;
import io.runbook.journal.StepRecord;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = {
      "Show one past run from its journal: the runbook, inventory and who ran it, how each host ended "
          + "(as the recap did), why hosts failed and what a failed rollback left undone.",
      "For a run whose controller was killed, each unfinished host shows the step it was in; a damaged journal "
          + "line is named with what it was about, since what happened there is unknown."
    })
final class ShowCommand implements Callable<Integer> {
  private static final int NAME_WIDTH = 44;

  /**
   * A journal that is garbage from some line on would otherwise print a line for each of its lines.
   */
  private static final int MAX_DAMAGE_NOTES = 10;

  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "RUN_ID",
      description = "The run's id, or a prefix of it that only one run has.")
  String runId;

  @Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      paramLabel = "DIR",
      description = "Where run journals are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--steps",
      description = "List each host's steps in order, rollback steps marked ↺.")
  boolean steps;

  @Option(names = "--json", description = "Print the run, its hosts and their steps as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    RunSummary run = JournalReader.find(stateDir, runId);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(EventJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(run));
      return 0;
    }
    header(out, run);
    out.println();
    hosts(out, run);
    if (steps) {
      for (HostSummary h : run.hosts()) steps(out, h);
    }
    return 0;
  }

  private static void header(PrintWriter out, RunSummary run) {
    boolean interrupted = run.outcome() == RunSummary.RunOutcome.INTERRUPTED;
    var rehearsal = HistoryCommand.rehearsal(run);
    if (rehearsal.isPresent()) {
      // The journal shows the copies upgraded and rolled back; what the rehearsal concluded is its
      // verdict.
      var v = rehearsal.get();
      out.println(
          "run "
              + run.runId()
              + " · "
              + v.outcome()
              + " (exit "
              + v.exitCode()
              + "): ran on disposable copies"
              + " of the hosts below, production untouched; see "
              + run.journal().resolveSibling("rehearsal.md"));
      v.failures().forEach(f -> out.println("  failed: " + f));
      v.warnings().forEach(w -> out.println("  warning: " + w));
    } else {
      out.println(
          "run "
              + run.runId()
              + " · "
              + run.outcome().label()
              + (interrupted && run.stopped() == null
                  ? ": the journal ends before the run did (controller killed or lost)"
                  : ""));
    }
    out.println(
        "runbook    "
            + orDash(run.runbook())
            + (run.runbookName() == null ? "" : " · " + run.runbookName()));
    out.println(
        "inventory  "
            + orDash(run.inventory())
            + " · "
            + run.hosts().size()
            + " host(s)"
            + (run.forks() == null ? "" : " · forks " + run.forks()));
    out.println(
        "started    "
            + HistoryCommand.started(run.started())
            + (run.user() == null ? "" : " by " + run.user())
            + (run.controller() == null ? "" : " on " + run.controller())
            + " · "
            + (interrupted ? "last event after " : "took ")
            + HistoryCommand.duration(run.durationMillis()));
    if (run.stopped() != null) out.println("stopped    " + run.stopped());
    out.println("journal    " + run.journal());
    if (run.unreadableLines() > 0) {
      boolean torn = run.damage().stream().allMatch(JournalEvents.Damage::torn);
      out.println(
          "           "
              + run.unreadableLines()
              + " line(s) unreadable, skipped"
              + (torn ? " (a line cut short when the controller stopped)" : ":"));
      List<String> notes = run.damageNotes();
      notes.stream().limit(MAX_DAMAGE_NOTES).forEach(n -> out.println("             " + n));
      if (notes.size() > MAX_DAMAGE_NOTES) {
        out.println(
            "             ... and "
                + (notes.size() - MAX_DAMAGE_NOTES)
                + " more (--json lists every one)");
      }
    }
  }

  /** The recap's table, then why hosts failed and where unfinished hosts were. */
  private static void hosts(PrintWriter out, RunSummary run) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "HOST", "MODE", "RESULT", "OK", "CHANGED", "FAILED", "SKIPPED", "UNDONE", "TIME"
        });
    for (HostSummary h : run.hosts()) {
      boolean ran = h.state() != HostSummary.State.NOT_STARTED;
      rows.add(
          new String[] {
            h.host(),
            orDash(h.mode()),
            h.result(),
            count(h.ok(), ran),
            count(h.changed(), ran),
            count(h.failed(), ran),
            count(h.skipped(), ran),
            count(h.undone(), ran),
            ran ? HistoryCommand.duration(h.durationMillis()) : "-"
          });
    }
    HistoryCommand.table(out, rows, 3, 4, 5, 6, 7, 8);
    for (HostSummary h : run.hosts()) {
      if (h.inFlight() != null) {
        StepRecord s = h.inFlight();
        out.println(
            "  "
                + h.host()
                + ": in progress: "
                + (s.rollback() ? "rolling back: " : "")
                + s.phase()
                + " step '"
                + s.name()
                + "' was running when the journal ends");
      }
      if (h.message() != null) {
        out.println(
            "  "
                + h.host()
                + ": "
                + (h.failedStep() != null ? "'" + h.failedStep() + "' failed: " : "")
                + h.message());
      }
      if (h.rollbackError() != null)
        out.println("  " + h.host() + ": rollback stopped at " + h.rollbackError());
      h.notUndone().forEach(s -> out.println("  " + h.host() + ": not undone: " + s));
      h.notices().forEach(n -> out.println("  " + n));
    }
    if (run.outcome() == RunSummary.RunOutcome.ROLLBACK_FAILED
        && HistoryCommand.rehearsal(run).isEmpty()) {
      out.println("A rollback failed: those hosts need a person.");
    }
  }

  private static void steps(PrintWriter out, HostSummary h) {
    out.println();
    out.println(h.host() + " · " + orDash(h.mode()) + " · " + h.result());
    if (h.steps().isEmpty()) out.println("  (no steps)");
    for (StepRecord s : h.steps()) {
      String phase = (s.rollback() ? "↺ " : "") + orDash(s.phase());
      String name =
          s.name().length() > NAME_WIDTH ? s.name().substring(0, NAME_WIDTH - 1) + "…" : s.name();
      String status =
          s.inFlight()
              ? "running"
              : s.failed() ? "FAILED" : s.status().name().toLowerCase(Locale.ROOT);
      String time = s.inFlight() ? "" : HistoryCommand.duration(s.durationMillis());
      out.println(
          String.format("  %-10s %-" + NAME_WIDTH + "s %-9s %s", phase, name, status, time)
              .stripTrailing());
      if (s.failed() && s.message() != null) out.println("             " + s.message());
    }
  }

  private static String count(int n, boolean ran) {
    return ran ? Integer.toString(n) : "-";
  }

  private static String orDash(String s) {
    return s == null ? "-" : s;
  }
}
