package io.runbook.execution;

import io.runbook.model.Runbook;
import java.time.Instant;
import java.util.List;

/** The resolved run: every targeted host with its steps. Produced by {@link Planner}, run by {@link Executor}. */
public record Plan(String runId, Instant createdAt, Runbook runbook, String inventory, List<HostPlan> hosts,
    java.util.Set<String> secretValues) {

  /**
   * @param secretValues values that must never be shown whatever their variable's name: the inventory's
   *     Ansible-vault plaintexts (see {@code Inventory.secretValues()})
   */
  public Plan {
    secretValues = java.util.Set.copyOf(secretValues);
  }

  public Plan(String runId, Instant createdAt, Runbook runbook, String inventory, List<HostPlan> hosts) {
    this(runId, createdAt, runbook, inventory, hosts, java.util.Set.of());
  }
}
