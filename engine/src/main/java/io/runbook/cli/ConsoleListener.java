package io.runbook.cli;

import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import io.runbook.event.HostFinished;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackStarted;
import io.runbook.event.RunFinished;
import io.runbook.event.RunResumed;
import io.runbook.event.RunStarted;
import io.runbook.event.StepFinished;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.result.StepResult;
import io.runbook.yaml.Durations;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Live per-host progress, one line per finished step, and a recap table at the end. */
final class ConsoleListener implements EventListener {
  private static final int NAME_WIDTH = 44;
  private final PrintWriter out;
  private final Ansi ansi;
  private final String journal;
  private final List<String> batches = new ArrayList<>();

  ConsoleListener(PrintWriter out, boolean color, String journal) {
    this.out = out;
    this.ansi = new Ansi(color);
    this.journal = journal;
  }

  @Override
  public void on(Event event) {
    if (event instanceof RunStarted e) {
      out.println(
          ansi.bold("run " + e.runId())
              + " · "
              + e.runbookName()
              + " · "
              + e.hosts().size()
              + " host(s) from "
              + e.inventory()
              + " · forks "
              + e.forks());
    } else if (event instanceof RunResumed e) {
      out.println(
          ansi.bold(e.action() + " of run " + e.runId())
              + " by "
              + e.user()
              + "@"
              + e.controller()
              + " · "
              + (e.hosts().isEmpty() ? "no host left to run" : String.join(", ", e.hosts())));
    } else if (event instanceof StepFinished e) {
      if (!e.loopSummary()) step(e); // its items were shown one by one
    } else if (event instanceof RollbackStarted e) {
      // No failed step: an operator's `runbook rollback RUN_ID` of a run that may have succeeded.
      String why =
          e.failedStep() == null
              ? (e.reason() == null ? "" : " (" + e.reason() + ")")
              : " after '" + e.failedStep() + "' failed";
      out.println(
          prefix(e.host())
              + ansi.yellow("ROLLBACK")
              + why
              + "; undoing "
              + e.stack().size()
              + " step(s), last first");
    } else if (event instanceof RollbackFinished e && !e.succeeded()) {
      out.println(prefix(e.host()) + ansi.red("ROLLBACK FAILED: " + e.message()));
      e.notUndone().forEach(s -> out.println(prefix(e.host()) + "  not undone: " + s));
    } else if (event instanceof HostFinished e && e.result().outcome() == Outcome.UNREACHABLE) {
      out.println(prefix(e.result().host()) + ansi.red("UNREACHABLE ") + e.result().message());
    } else if (event instanceof BatchStarted e) {
      if (e.batches() > 1) {
        out.println(
            ansi.bold("── batch " + e.batch() + "/" + e.batches())
                + " · "
                + String.join(", ", e.hosts()));
      }
    } else if (event instanceof BatchFinished e) {
      batches.add(
          "["
              + String.join(", ", e.hosts())
              + "]"
              + (e.failed().isEmpty() ? "" : " " + e.failed().size() + " failed")
              + (e.decision().equals("continue") || e.decision().equals("done")
                  ? ""
                  : " → " + e.decision()));
      if (!e.failed().isEmpty()
          || (!e.decision().equals("continue") && !e.decision().equals("done"))) {
        out.println(
            ansi.yellow(
                "── batch "
                    + e.batch()
                    + ": "
                    + (e.reason() == null ? "" : e.reason() + " → ")
                    + e.decision()));
      }
    } else if (event instanceof LockChanged e && e.action().equals("lost")) {
      out.println(
          prefix(e.host())
              + ansi.red("LOCK LOST to run " + e.from() + ": stopped changing this host"));
    } else if (event instanceof OrphanFound e) {
      String did =
          switch (e.action()) {
            case "ended" -> "it ended while we waited";
            case "stopped" -> "stopped it";
            default -> "could NOT stop it: the host is left alone";
          };
      out.println(
          prefix(e.host())
              + ansi.yellow(
                  "run "
                      + e.run()
                      + " still had "
                      + e.processes().size()
                      + " process(es) running here (pid "
                      + e.processes().get(0).split(" ", 2)[0]
                      + "): waited "
                      + Durations.format(Duration.ofMillis(e.waitedMillis()))
                      + ", "
                      + did));
    } else if (event instanceof LockChanged e
        && !e.action().equals("taken")
        && !e.action().equals("released")) {
      out.println(
          prefix(e.host())
              + ansi.yellow("lock " + e.action().replace('_', ' ') + " from run " + e.from()));
    } else if (event instanceof RunFinished e) {
      recap(e.result());
    }
    out.flush();
  }

  private void step(StepFinished e) {
    StepResult r = e.result();
    String phase = e.rollback() ? "↺ " + e.phase() : e.phase();
    String name =
        e.name().length() > NAME_WIDTH ? e.name().substring(0, NAME_WIDTH - 1) + "…" : e.name();
    String status =
        switch (r.status()) {
          case OK -> ansi.green("ok");
          case CHANGED -> ansi.yellow("changed");
          case SKIPPED -> ansi.dim("skipped");
          case FAILED -> ansi.red("FAILED");
        };
    out.printf(
        "%s%-10s %-" + NAME_WIDTH + "s %s %s%n",
        prefix(e.where()),
        phase,
        name,
        status,
        ansi.dim(Durations.format(Duration.ofMillis(r.durationMillis()))));
    if (r.failed()) {
      if (r.message() != null) out.println(prefix(e.host()) + "  " + ansi.red(r.message()));
      tail(e.host(), r.stderr() != null && !r.stderr().isBlank() ? r.stderr() : r.stdout());
    }
  }

  private void tail(String host, String text) {
    if (text == null || text.isBlank()) return;
    List<String> lines = text.strip().lines().toList();
    for (String l : lines.subList(Math.max(0, lines.size() - 5), lines.size())) {
      out.println(prefix(host) + "  │ " + l);
    }
  }

  private String prefix(String host) {
    return ansi.cyan("[" + host + "] ");
  }

  private void recap(RunResult run) {
    out.println();
    out.println(
        ansi.bold("RECAP")
            + " run "
            + run.runId()
            + " · "
            + Durations.format(Duration.ofMillis(run.durationMillis()))
            + (run.interrupted() ? " · " + ansi.yellow("INTERRUPTED by the operator") : ""));
    int w = Math.max(4, run.hosts().stream().mapToInt(h -> h.host().length()).max().orElse(4));
    out.printf(
        "%-" + w + "s  %-10s  %-16s %4s %8s %7s %8s %7s %8s%n",
        "HOST",
        "MODE",
        "RESULT",
        "OK",
        "CHANGED",
        "FAILED",
        "SKIPPED",
        "UNDONE",
        "TIME");
    for (HostResult h : run.hosts()) {
      String label = String.format("%-16s", h.outcome().label());
      label =
          switch (h.outcome()) {
            case SUCCEEDED -> ansi.green(label);
            case ROLLED_BACK, CLEANUP_FAILED -> ansi.yellow(label);
            default -> ansi.red(label);
          };
      out.printf(
          "%-" + w + "s  %-10s  %s %4d %8d %7d %8d %7d %8s%n",
          h.host(),
          h.mode() == null ? "-" : h.mode(),
          label,
          h.ok(),
          h.changed(),
          h.failed(),
          h.skipped(),
          h.rolledBack(),
          Durations.format(Duration.ofMillis(h.durationMillis())));
    }
    for (HostResult h : run.hosts()) {
      if (h.message() != null) {
        out.println(
            "  "
                + h.host()
                + ": "
                + (h.failedStep() != null ? "'" + h.failedStep() + "' failed: " : "")
                + h.message());
      }
      if (h.rollbackError() != null) {
        out.println("  " + h.host() + ": " + ansi.red("rollback stopped at " + h.rollbackError()));
      }
    }
    if (batches.size() > 1) out.println("batches: " + String.join(" → ", batches));
    if (run.stopped() != null) out.println(ansi.yellow("Rollout stopped: " + run.stopped()));
    if (run.hosts().stream().anyMatch(h -> h.outcome() == Outcome.ROLLBACK_FAILED)) {
      out.println(
          ansi.red(
              "A rollback failed: those hosts need a person. The journal lists what was not undone."));
    }
    if (journal != null) out.println("journal: " + journal);
  }

  /** ANSI colours, only on a terminal and when NO_COLOR is unset. */
  record Ansi(boolean on) {
    String wrap(String code, String s) {
      return on ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
    }

    String bold(String s) {
      return wrap("1", s);
    }

    String dim(String s) {
      return wrap("2", s);
    }

    String red(String s) {
      return wrap("31", s);
    }

    String green(String s) {
      return wrap("32", s);
    }

    String yellow(String s) {
      return wrap("33", s);
    }

    String cyan(String s) {
      return wrap("36", s);
    }
  }
}
