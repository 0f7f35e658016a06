package io.runbook.execution;

import io.runbook.model.Phase;
import io.runbook.model.StepSpec;
import io.runbook.step.Step;
import java.util.List;

/**
 * A step as it will run on one host: its spec, its step type, its position, and a preview of its
 * arguments rendered with the host's variables (registered values shown as {@code <name>}).
 *
 * @param index 1-based position among the host's forward steps (0 for handlers and the rollback
 *     phase)
 * @param name the step's name, templated for the host
 * @param handlers the rollback handlers of this step, planned the same way; empty when none
 * @param autoUndo true when the step type undoes itself (e.g. copy restores the previous file) and
 *     no explicit handlers were given
 * @param delegate the inventory host the step runs on instead of its target, as far as the plan
 *     knows it (a name built from registered values shows them as {@code ⟨name⟩}); null when not
 *     delegated
 */
public record PlannedStep(
    Phase phase,
    int index,
    String name,
    StepSpec spec,
    Step<?> step,
    String preview,
    List<PlannedStep> handlers,
    boolean autoUndo,
    String delegate) {

  public PlannedStep(
      Phase phase,
      int index,
      String name,
      StepSpec spec,
      Step<?> step,
      String preview,
      List<PlannedStep> handlers,
      boolean autoUndo) {
    this(phase, index, name, spec, step, preview, handlers, autoUndo, null);
  }

  public String type() {
    return spec.type();
  }
}
