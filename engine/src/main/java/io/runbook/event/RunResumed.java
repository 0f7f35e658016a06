package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * A new controller picks up a run whose controller stopped ({@code action: resume}), or undoes a
 * past run ({@code action: rollback}). Events that follow belong to the same run.
 */
public record RunResumed(
    Instant at, String runId, String action, String user, String controller, List<String> hosts)
    implements Event {}
