package io.runbook.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.journal.HostSummary;
import io.runbook.journal.RunSummary;
import io.runbook.result.Status;
import java.time.Instant;
import java.util.List;

/**
 * A run laid out in time, as its journal tells it: what {@code runbook report} draws. Every time is
 * an offset in milliseconds from the run's start ({@link #started}), so the page needs no clock
 * arithmetic.
 *
 * @param summary the recap, as {@code runbook show} prints it
 * @param ended when the run finished; null when the journal ends first (controller killed)
 * @param spanMillis from the start to the journal's last event: the timeline's width
 * @param exitCode the run's exit code; null when the journal has no end
 * @param hosts in the order the run listed them
 * @param markers run-wide moments: a resume, a later {@code runbook rollback}
 * @param idle stretches where nothing ran and nothing happened (the controller was down until a
 *     resume, or hours passed before a {@code runbook rollback}), in order: the timeline cuts them
 *     short
 * @param rehearsal {@code rehearsal.json} beside the journal, or null
 * @param downtime {@code downtime.json} beside the journal ({@code apply --measure-downtime}), or
 *     null
 */
public record RunReport(
    RunSummary summary,
    Instant started,
    Instant ended,
    long spanMillis,
    Integer exitCode,
    List<Host> hosts,
    List<Batch> batches,
    List<Marker> markers,
    List<Idle> idle,
    JsonNode rehearsal,
    JsonNode downtime) {

  public RunReport {
    hosts = List.copyOf(hosts);
    batches = List.copyOf(batches);
    markers = List.copyOf(markers);
    idle = List.copyOf(idle);
  }

  /** A stretch of the run where no step ran and the journal was silent. */
  public record Idle(long fromMillis, long toMillis) {
    public long millis() {
      return toMillis - fromMillis;
    }
  }

  /**
   * One host's lane.
   *
   * @param recap the host's line of the recap
   * @param batch the 1-based batch it ran in; null when its batch never started
   * @param startMillis when work on it began; null if it never did
   * @param endMillis when it finished; null if the journal ends first
   * @param rollbacks in the order they started (a host undone with the fleet rolls back after
   *     succeeding)
   * @param events lock changes, in order
   */
  public record Host(
      String name,
      String mode,
      HostSummary recap,
      Integer batch,
      Long startMillis,
      Long endMillis,
      List<Step> steps,
      List<Rollback> rollbacks,
      List<Marker> events) {

    public Host {
      steps = List.copyOf(steps);
      rollbacks = List.copyOf(rollbacks);
      events = List.copyOf(events);
    }
  }

  /**
   * One step on one host.
   *
   * @param id unique in the report, for links from the timeline to the step's output
   * @param status null while in flight (the journal ends during it); it then ends at the journal's
   *     end
   * @param stdout the output tail the journal kept, or null
   */
  public record Step(
      int id,
      String phase,
      int index,
      String name,
      String type,
      Kind kind,
      String forStep,
      Status status,
      long startMillis,
      long endMillis,
      long durationMillis,
      int attempts,
      Integer rc,
      String message,
      String stdout,
      String stderr) {

    public boolean inFlight() {
      return status == null;
    }

    public boolean failed() {
      return status == Status.FAILED;
    }
  }

  /** What a step was there for: the upgrade, the rollout's health gate, or undoing. */
  public enum Kind {
    STEP,
    GATE,
    ROLLBACK
  }

  /**
   * A host's rollback.
   *
   * @param endMillis null while it runs when the journal ends
   * @param succeeded null while it runs
   * @param stack the handlers it was to run, last completed step first
   */
  public record Rollback(
      long startMillis,
      Long endMillis,
      String failedStep,
      String reason,
      List<String> stack,
      Boolean succeeded,
      String message,
      List<String> notUndone) {

    public Rollback {
      stack = stack == null ? List.of() : List.copyOf(stack);
      notUndone = notUndone == null ? List.of() : List.copyOf(notUndone);
    }
  }

  /**
   * A rollout batch.
   *
   * @param endMillis null when the journal ends inside it
   * @param decision what the rollout did next ({@code continue}, {@code done}, {@code stop}, {@code
   *     rollback-fleet}); null when it never said
   */
  public record Batch(
      int number,
      int of,
      List<String> hosts,
      long startMillis,
      Long endMillis,
      List<String> failed,
      String decision,
      String reason) {

    public Batch {
      hosts = List.copyOf(hosts);
      failed = failed == null ? List.of() : List.copyOf(failed);
    }
  }

  /**
   * A moment worth a mark: {@code kind} is {@code lock} (text: taken, took_over, broken, released)
   * or {@code resume} / {@code rollback} (another controller picked the run up).
   *
   * @param host null for a run-wide moment
   */
  public record Marker(long atMillis, String host, String kind, String text) {}
}
