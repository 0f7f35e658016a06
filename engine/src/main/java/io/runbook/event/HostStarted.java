package io.runbook.event;

import java.time.Instant;

/** Work on a host begins (before connecting). */
public record HostStarted(Instant at, String host, String mode, String target) implements Event {}
