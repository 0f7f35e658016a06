package io.runbook.event;

import io.runbook.result.RunResult;
import java.time.Instant;

/** The run is over; the result holds every host's outcome and the exit code. */
public record RunFinished(Instant at, RunResult result) implements Event {}
