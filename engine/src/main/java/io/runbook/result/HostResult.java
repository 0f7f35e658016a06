package io.runbook.result;

/**
 * What happened on one host.
 *
 * @param failedStep the forward step that failed, or null
 * @param message why the host failed, or null
 * @param rolledBack how many rollback handlers ran successfully
 * @param rollbackError why the rollback stopped, or null
 */
public record HostResult(
    String host,
    String mode,
    Outcome outcome,
    int ok,
    int changed,
    int failed,
    int skipped,
    int rolledBack,
    String failedStep,
    String message,
    String rollbackError,
    long durationMillis) {}
