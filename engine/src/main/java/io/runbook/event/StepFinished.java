package io.runbook.event;

import io.runbook.result.StepResult;
import java.time.Instant;

/**
 * A step ended on a host, with its result (status, output tails, duration, registered data). {@code
 * undo} is the undo key of a rollback step, as in {@link StepStarted}.
 *
 * @param iteration the 1-based item of a looped step; 0 for the end of a looped forward step as a
 *     whole (what {@code resume} reads as the step done, and what its {@code register} holds),
 *     which consoles and reports leave out since its items were shown; null when the step is not
 *     looped
 * @param delegate the inventory host the step ran on instead of {@code host}, or null
 */
public record StepFinished(
    Instant at,
    String host,
    String phase,
    int index,
    String name,
    String type,
    boolean rollback,
    String forStep,
    String register,
    StepResult result,
    String undo,
    Integer iteration,
    String delegate)
    implements Event {

  public StepFinished(
      Instant at,
      String host,
      String phase,
      int index,
      String name,
      String type,
      boolean rollback,
      String forStep,
      String register,
      StepResult result,
      String undo) {
    this(at, host, phase, index, name, type, rollback, forStep, register, result, undo, null, null);
  }

  public StepFinished(
      Instant at,
      String host,
      String phase,
      int index,
      String name,
      String type,
      boolean rollback,
      String forStep,
      String register,
      StepResult result) {
    this(at, host, phase, index, name, type, rollback, forStep, register, result, null);
  }

  /** The end of a looped step as a whole, after its items: not a step of its own to show. */
  public boolean loopSummary() {
    return iteration != null && iteration == 0;
  }

  /** {@code app2 → lb} for a delegated step, else the host. */
  public String where() {
    return delegate == null ? host : host + " → " + delegate;
  }
}
