package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.runbook.result.Outcome;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a journal says about one host of a run.
 *
 * @param outcome how the host ended; null while it is in progress, has not started, or ended in a
 *     way this version does not know (then {@code result} still says it)
 * @param result the outcome's label ("ok", "rolled back"), or "in progress" / "not started"
 * @param undone rollback handlers that ran successfully
 * @param durationMillis for a host in progress, the time up to the journal's last event
 * @param inFlight the step running when the journal ends, for a host in progress
 * @param steps every step in the order it started, rollback handlers included
 * @param orphans commands of another controller found still running on the host before this run
 *     acted there
 * @param lockLostTo who took the host's lock while this run held it ({@code RUN_ID
 *     (user@controller)}), after which the run stopped changing the host; null when it kept the
 *     lock
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostSummary(
    String host,
    String mode,
    State state,
    Outcome outcome,
    String result,
    int ok,
    int changed,
    int failed,
    int skipped,
    int undone,
    String failedStep,
    String message,
    String rollbackError,
    List<String> notUndone,
    long durationMillis,
    StepRecord inFlight,
    List<StepRecord> steps,
    List<Orphan> orphans,
    String lockLostTo) {

  /** Where the host got to. */
  public enum State {
    FINISHED,
    IN_PROGRESS,
    NOT_STARTED
  }

  /**
   * A command of run {@code run} (a dead controller's, or the one whose lock was taken over) that
   * was still running on the host.
   *
   * @param processes {@code pid pgid command} of each
   * @param action {@code ended} while waited for, {@code stopped} (its process groups killed), or
   *     {@code left}
   */
  public record Orphan(String run, List<String> processes, String action, long waitedMillis) {
    public Orphan {
      processes = processes == null ? List.of() : List.copyOf(processes);
    }
  }

  public HostSummary {
    notUndone = notUndone == null ? List.of() : List.copyOf(notUndone);
    steps = steps == null ? List.of() : List.copyOf(steps);
    orphans = orphans == null ? List.of() : List.copyOf(orphans);
  }

  /**
   * What else happened on the host that an operator reading an incident must know, one sentence
   * each: "run X's command was still running on web2: waited 3s, stopped it", "lost the lock of
   * web2 to ...".
   */
  @JsonIgnore
  public List<String> notices() {
    List<String> out = new ArrayList<>();
    for (Orphan o : orphans) {
      String what =
          o.processes().size() > 1 ? o.processes().size() + " commands were" : "command was";
      String did =
          switch (String.valueOf(o.action())) {
            case "ended" -> "it ended";
            case "stopped" -> "stopped it";
            case "left" -> "could not stop it, so the host was left alone";
            default -> String.valueOf(o.action());
          };
      out.add(
          "run "
              + o.run()
              + "'s "
              + what
              + " still running on "
              + host
              + ": waited "
              + Durations.format(Duration.ofMillis(o.waitedMillis()))
              + ", "
              + did);
    }
    if (lockLostTo != null) {
      String to =
          lockLostTo.startsWith("nobody") || lockLostTo.startsWith("another")
              ? lockLostTo
              : "run " + lockLostTo;
      out.add("lost the lock of " + host + " to " + to + ": stopped changing that host");
    }
    return out;
  }

  HostSummary withoutSteps() {
    return new HostSummary(
        host,
        mode,
        state,
        outcome,
        result,
        ok,
        changed,
        failed,
        skipped,
        undone,
        failedStep,
        message,
        rollbackError,
        notUndone,
        durationMillis,
        inFlight,
        List.of(),
        orphans,
        lockLostTo);
  }
}
