package io.runbook.event;

import java.time.Instant;

/**
 * A step starts on a host. {@code rollback} is true for rollback handlers and the rollback phase;
 * {@code forStep} then names the forward step being undone, and {@code undo} says which piece of undo work
 * this is ({@code 3:auto}, {@code 3:1}, {@code phase:2}), so that a later controller never runs it twice.
 */
public record StepStarted(Instant at, String host, String phase, int index, String name, String type,
    boolean rollback, String forStep, String undo) implements Event {

  public StepStarted(Instant at, String host, String phase, int index, String name, String type, boolean rollback,
      String forStep) {
    this(at, host, phase, index, name, type, rollback, forStep, null);
  }
}
