package io.runbook.execution;

import io.runbook.inventory.Host;
import java.util.List;
import java.util.Map;

/**
 * Everything one host will run, decided before any host is contacted.
 *
 * @param vars the host's variables in precedence order, templated: inventory, runbook, extra vars, facts
 * @param steps forward steps in order (preflight → cleanup)
 * @param rollbackPhase the runbook's {@code rollback} phase for this host's mode
 * @param gate the rollout's health gate steps
 */
public record HostPlan(Host host, String mode, Map<String, Object> vars, List<PlannedStep> steps,
    List<PlannedStep> rollbackPhase, List<PlannedStep> gate) {

  public String name() {
    return host.name();
  }
}
