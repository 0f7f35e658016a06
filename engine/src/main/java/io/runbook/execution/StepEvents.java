package io.runbook.execution;

import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.result.StepResult;
import java.time.Instant;

/**
 * The {@link StepStarted} and {@link StepFinished} of one run of a step on a host: a forward step,
 * an item of a looped one, a delegated step, a handler or an automatic undo. Built in one place so
 * that the journal, the console and resume see every kind of step the same way.
 *
 * @param item the 1-based item of a looped step, or null
 * @param delegate the inventory host the step runs on instead of {@code host}, or null
 */
record StepEvents(
    String host,
    String phase,
    int index,
    String name,
    String type,
    boolean rollback,
    String forStep,
    String undoKey,
    Integer item,
    String delegate) {

  /** A step (or its item {@code iteration}, when above 0) as shown under {@code name}. */
  static StepEvents of(
      String host,
      PlannedStep step,
      String name,
      boolean rollback,
      String forStep,
      String undoKey,
      int iteration,
      String delegate) {
    return new StepEvents(
        host,
        step.phase().key(),
        step.index(),
        name,
        step.type(),
        rollback,
        forStep,
        undoKey,
        iteration > 0 ? iteration : null,
        delegate);
  }

  /**
   * The automatic undo of a rollback entry: shown by what it does, under its step's phase, with no
   * index of its own (it is no step of the plan).
   */
  static StepEvents ofUndo(String host, RollbackStack.Entry e, String delegate) {
    PlannedStep s = e.forStep();
    return new StepEvents(
        host,
        s.phase().key(),
        0,
        e.undo().description(),
        s.type(),
        true,
        e.name(),
        e.autoKey(),
        e.iteration() > 0 ? e.iteration() : null,
        delegate);
  }

  StepStarted started() {
    return new StepStarted(
        Instant.now(), host, phase, index, name, type, rollback, forStep, undoKey, item, delegate);
  }

  StepFinished finished(String register, StepResult result) {
    return finished(register, result, item);
  }

  /**
   * The end of a looped step as a whole (item 0), after its items: what {@code resume} reads as the
   * step done.
   */
  StepFinished loopFinished(String register, StepResult result) {
    return finished(register, result, 0);
  }

  private StepFinished finished(String register, StepResult result, Integer item) {
    return new StepFinished(
        Instant.now(),
        host,
        phase,
        index,
        name,
        type,
        rollback,
        forStep,
        register,
        result,
        undoKey,
        item,
        delegate);
  }
}
