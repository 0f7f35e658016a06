package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * A host's rollback ended; {@code notUndone} lists handlers that did not run because one failed.
 */
public record RollbackFinished(
    Instant at, String host, boolean succeeded, String message, List<String> notUndone)
    implements Event {}
