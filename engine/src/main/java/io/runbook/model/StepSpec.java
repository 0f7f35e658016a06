package io.runbook.model;

import io.runbook.yaml.Location;
import java.time.Duration;
import java.util.List;

/**
 * One step as written in a runbook, before templating. Conditions ({@code when}, {@code until},
 * {@code changed_when}, {@code failed_when}) are FreeMarker expressions; null when absent.
 *
 * @param type the step type key ({@code shell}, {@code copy}, ...)
 * @param args the step type's arguments as plain YAML values (templated per host at run time)
 * @param pointer JSON Pointer of the step in its file, to locate errors in its arguments
 * @param retries extra attempts after the first failed one (or while {@code until} is false)
 * @param rollback explicit handlers that undo this step; null when none were written
 * @param idempotent running the step twice does no harm: {@code resume} re-runs it when the
 *     controller died while it ran (otherwise that host is rolled back)
 * @param delegateTo the inventory host the step runs on instead of its target (a template, rendered
 *     with the target's variables), or null; a rollback handler without its own inherits its step's
 * @param loop the items the step runs once for: a YAML list, or a {@code "[=expr]"} string whose
 *     expression yields one; null when the step is not looped
 * @param loopVar the variable each item is bound to ({@code item} unless {@code loop_var} says
 *     otherwise)
 */
public record StepSpec(
    String name,
    String type,
    Object args,
    String when,
    String register,
    int retries,
    Duration delay,
    String until,
    Duration timeout,
    Boolean become,
    String becomeUser,
    String changedWhen,
    String failedWhen,
    boolean ignoreErrors,
    boolean idempotent,
    List<StepSpec> rollback,
    Location location,
    String pointer,
    String delegateTo,
    Object loop,
    String loopVar) {

  public StepSpec {
    loopVar = loopVar == null ? "item" : loopVar;
    if (retries < 0) throw new IllegalArgumentException("retries < 0");
    delay = delay == null ? Duration.ZERO : delay;
    rollback = rollback == null ? null : List.copyOf(rollback);
  }

  /** The same step running on {@code delegate} (for the handlers of a delegated step). */
  public StepSpec withDelegate(String delegate) {
    return new StepSpec(
        name,
        type,
        args,
        when,
        register,
        retries,
        delay,
        until,
        timeout,
        become,
        becomeUser,
        changedWhen,
        failedWhen,
        ignoreErrors,
        idempotent,
        rollback,
        location,
        pointer,
        delegate,
        loop,
        loopVar);
  }

  /**
   * The expression of a {@code loop: "[=expr]"}, or null when the loop is a YAML list (or absent).
   */
  public String loopExpression() {
    return loop instanceof String s ? s.strip().substring(2, s.strip().length() - 1) : null;
  }

  /** {@code 'Backup database' (shell) at upgrade.yaml:12:5} — how messages name a step. */
  public String describe() {
    return "step '" + name + "' (" + type + ")";
  }
}
