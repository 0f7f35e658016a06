package io.runbook.execution;

import io.runbook.model.Runbook;
import java.time.Instant;
import java.util.List;

/** The resolved run: every targeted host with its steps. Produced by {@link Planner}, run by {@link Executor}. */
public record Plan(String runId, Instant createdAt, Runbook runbook, String inventory, List<HostPlan> hosts) {}
