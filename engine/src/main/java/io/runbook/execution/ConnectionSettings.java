package io.runbook.execution;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Controller-wide SSH settings from the command line; per-host settings come from the inventory.
 *
 * @param knownHosts the known_hosts file host keys are verified against
 * @param acceptNewHostKeys record unknown host keys instead of refusing them (changed keys are refused)
 */
public record ConnectionSettings(Path knownHosts, boolean acceptNewHostKeys, Duration connectTimeout) {}
