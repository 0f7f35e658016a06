package io.runbook.model;

import java.util.List;

/**
 * A run-once phase ({@code before_all:} or {@code after_all:}): steps that run once for the whole
 * run on one host, not once per target. Which host {@code on} names is decided at plan time,
 * against the inventory.
 *
 * @param phase {@link Phase#BEFORE_ALL} or {@link Phase#AFTER_ALL}
 * @param on an inventory host (name or a pattern matching exactly one host), or {@link #CONTROLLER}
 * @param pointer JSON Pointer of the phase in the runbook, to locate problems with {@code on}
 */
public record RunOnce(Phase phase, String on, List<StepSpec> steps, String pointer) {
  /** {@code on: controller}: the machine runbook runs on, through the local transport. */
  public static final String CONTROLLER = "controller";

  public RunOnce {
    if (phase != Phase.BEFORE_ALL && phase != Phase.AFTER_ALL)
      throw new IllegalArgumentException("not a run-once phase: " + phase);
    steps = List.copyOf(steps);
  }

  public boolean onController() {
    return CONTROLLER.equals(on);
  }
}
