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
 * @param delegates the inventory hosts this host's steps may be delegated to, by name (every inventory host
 *     when a {@code delegate_to} depends on a value registered at run time)
 */
public record HostPlan(Host host, String mode, Map<String, Object> vars, List<PlannedStep> steps,
    List<PlannedStep> rollbackPhase, List<PlannedStep> gate, Map<String, Host> delegates) {

  public HostPlan {
    delegates = delegates == null ? Map.of() : Map.copyOf(delegates);
  }

  public HostPlan(Host host, String mode, Map<String, Object> vars, List<PlannedStep> steps,
      List<PlannedStep> rollbackPhase, List<PlannedStep> gate) {
    this(host, mode, vars, steps, rollbackPhase, gate, Map.of());
  }

  public String name() {
    return host.name();
  }
}
