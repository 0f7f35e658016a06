package io.runbook.event;

import java.time.Instant;
import java.util.Locale;

/**
 * Something that happened during a run. The engine emits events and never prints: the console, the
 * journal and {@code --json} are {@link EventListener}s. Each event serialises to one JSON object
 * whose {@code event} field is {@link #eventType()}.
 */
public sealed interface Event
    permits RunStarted,
        HostStarted,
        StepStarted,
        StepFinished,
        RollbackStarted,
        RollbackFinished,
        RollbackPushed,
        StepCheckpoint,
        HostFinished,
        BatchStarted,
        BatchFinished,
        LockChanged,
        OrphanFound,
        RunResumed,
        RunFinished {

  Instant at();

  /** The snake_case name written to the journal, e.g. {@code step_finished}. */
  default String eventType() {
    String n = getClass().getSimpleName();
    return n.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
