package io.runbook.event;

import io.runbook.result.HostResult;
import java.time.Instant;

/** A host is done, one way or another. */
public record HostFinished(Instant at, HostResult result) implements Event {}
