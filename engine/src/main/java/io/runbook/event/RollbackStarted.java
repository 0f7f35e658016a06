package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * A host starts rolling back after {@code failedStep} failed. {@code stack} lists the handlers to
 * run, in the order they will run (last completed step first).
 */
public record RollbackStarted(
    Instant at, String host, String failedStep, String reason, List<String> stack)
    implements Event {}
