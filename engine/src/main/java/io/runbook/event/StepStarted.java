package io.runbook.event;

import java.time.Instant;

/**
 * A step starts on a host. {@code rollback} is true for rollback handlers and the rollback phase;
 * {@code forStep} then names the forward step being undone, and {@code undo} says which piece of
 * undo work this is ({@code 3:auto}, {@code 3:1}, {@code phase:2}, {@code 3.2:auto} for the second
 * item of a looped step 3), so that a later controller never runs it twice.
 *
 * @param iteration the 1-based item of a looped step, or null when the step is not looped
 * @param delegate the inventory host the step runs on instead of {@code host} ({@code
 *     delegate_to}), or null
 */
public record StepStarted(
    Instant at,
    String host,
    String phase,
    int index,
    String name,
    String type,
    boolean rollback,
    String forStep,
    String undo,
    Integer iteration,
    String delegate)
    implements Event {

  public StepStarted(
      Instant at,
      String host,
      String phase,
      int index,
      String name,
      String type,
      boolean rollback,
      String forStep,
      String undo) {
    this(at, host, phase, index, name, type, rollback, forStep, undo, null, null);
  }

  public StepStarted(
      Instant at,
      String host,
      String phase,
      int index,
      String name,
      String type,
      boolean rollback,
      String forStep) {
    this(at, host, phase, index, name, type, rollback, forStep, null);
  }
}
