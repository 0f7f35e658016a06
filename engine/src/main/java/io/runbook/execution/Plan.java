package io.runbook.execution;

import io.runbook.model.Runbook;
import io.runbook.template.Templates;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The resolved run: every targeted host with its steps. Produced by {@link Planner}, run by {@link
 * Executor}.
 */
public record Plan(
    String runId,
    Instant createdAt,
    Runbook runbook,
    String inventory,
    List<HostPlan> hosts,
    Set<String> secretValues,
    HostPlan once) {

  /**
   * @param secretValues values that must never be shown whatever their variable's name: the
   *     inventory's Ansible-vault plaintexts (see {@code Inventory.secretValues()})
   * @param once the run-once phases ({@code before_all} steps, then {@code after_all} steps) on the
   *     host they run on, as one plan named {@code once@<host>}; null when the runbook has none
   */
  public Plan {
    secretValues = Set.copyOf(secretValues);
  }

  public Plan(
      String runId,
      Instant createdAt,
      Runbook runbook,
      String inventory,
      List<HostPlan> hosts,
      Set<String> secretValues) {
    this(runId, createdAt, runbook, inventory, hosts, secretValues, null);
  }

  /**
   * The runbook's name as people read it: rendered with the run's values ({@code Upgrade flagsvc to
   * 2.0.0}, not {@code Upgrade flagsvc to [=target_version]}), the first host's where hosts differ.
   */
  public String displayName() {
    String raw = runbook.name();
    if (raw == null || hosts.isEmpty() || !Templates.isTemplate(raw)) return raw;
    try {
      return Templates.render(raw, "name", hosts.get(0).vars());
    } catch (RuntimeException e) {
      return raw;
    }
  }

  public Plan(
      String runId, Instant createdAt, Runbook runbook, String inventory, List<HostPlan> hosts) {
    this(runId, createdAt, runbook, inventory, hosts, Set.of());
  }
}
