package io.runbook.event;

import java.time.Instant;

/**
 * A step starts on a host. {@code rollback} is true for rollback handlers and the rollback phase;
 * {@code forStep} then names the forward step being undone.
 */
public record StepStarted(Instant at, String host, String phase, int index, String name, String type,
    boolean rollback, String forStep) implements Event {}
