package io.runbook.event;

import io.runbook.step.StepResult;
import java.time.Instant;

/** A step ended on a host, with its result (status, output tails, duration, registered data). */
public record StepFinished(Instant at, String host, String phase, int index, String name, String type,
    boolean rollback, String forStep, String register, StepResult result) implements Event {}
