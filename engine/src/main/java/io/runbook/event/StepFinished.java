package io.runbook.event;

import io.runbook.result.StepResult;
import java.time.Instant;

/**
 * A step ended on a host, with its result (status, output tails, duration, registered data). {@code undo} is
 * the undo key of a rollback step, as in {@link StepStarted}.
 */
public record StepFinished(Instant at, String host, String phase, int index, String name, String type,
    boolean rollback, String forStep, String register, StepResult result, String undo) implements Event {

  public StepFinished(Instant at, String host, String phase, int index, String name, String type, boolean rollback,
      String forStep, String register, StepResult result) {
    this(at, host, phase, index, name, type, rollback, forStep, register, result, null);
  }
}
