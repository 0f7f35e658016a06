package io.runbook.event;

import java.time.Instant;
import java.util.List;

/** A rollout batch begins (1-based {@code batch} of {@code batches}). */
public record BatchStarted(Instant at, int batch, int batches, List<String> hosts)
    implements Event {}
