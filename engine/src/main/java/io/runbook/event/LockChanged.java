package io.runbook.event;

import java.time.Instant;

/**
 * A host lock was taken, taken over from an expired or broken holder ({@code from}), or released.
 * {@code action}: {@code taken}, {@code took_over}, {@code broken}, {@code released}.
 */
public record LockChanged(Instant at, String host, String action, String from) implements Event {}
