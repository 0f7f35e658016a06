package io.runbook.execution;

import io.runbook.inventory.Host;
import java.util.List;
import java.util.Map;

/**
 * Everything one host will run, decided before any host is contacted.
 *
 * @param vars the host's variables in precedence order, templated: inventory, runbook, extra vars,
 *     facts
 * @param steps forward steps in order (preflight → cleanup)
 * @param rollbackPhase the runbook's {@code rollback} phase for this host's mode
 * @param gate the rollout's health gate steps
 * @param label the name the run knows this plan by when it is not the host's own: {@code once@db}
 *     for the run-once phases run on host {@code db} (journal, console, report); null for a target
 * @param delegates the inventory hosts this host's steps may be delegated to, by name (every
 *     inventory host when a {@code delegate_to} depends on a value registered at run time)
 */
public record HostPlan(
    Host host,
    String mode,
    Map<String, Object> vars,
    List<PlannedStep> steps,
    List<PlannedStep> rollbackPhase,
    List<PlannedStep> gate,
    String label,
    Map<String, Host> delegates) {

  /** The prefix of a run-once plan's name: {@code once@db}. */
  public static final String ONCE = "once@";

  public HostPlan {
    delegates = delegates == null ? Map.of() : Map.copyOf(delegates);
  }

  public HostPlan(
      Host host,
      String mode,
      Map<String, Object> vars,
      List<PlannedStep> steps,
      List<PlannedStep> rollbackPhase,
      List<PlannedStep> gate) {
    this(host, mode, vars, steps, rollbackPhase, gate, null, Map.of());
  }

  public HostPlan(
      Host host,
      String mode,
      Map<String, Object> vars,
      List<PlannedStep> steps,
      List<PlannedStep> rollbackPhase,
      List<PlannedStep> gate,
      String label) {
    this(host, mode, vars, steps, rollbackPhase, gate, label, Map.of());
  }

  public HostPlan(
      Host host,
      String mode,
      Map<String, Object> vars,
      List<PlannedStep> steps,
      List<PlannedStep> rollbackPhase,
      List<PlannedStep> gate,
      Map<String, Host> delegates) {
    this(host, mode, vars, steps, rollbackPhase, gate, null, delegates);
  }

  public String name() {
    return label != null ? label : host.name();
  }

  /** Whether this is the plan of the run-once phases rather than of a target. */
  public boolean once() {
    return label != null && label.startsWith(ONCE);
  }
}
