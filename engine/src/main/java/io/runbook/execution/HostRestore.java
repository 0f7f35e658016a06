package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.model.Phase;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.step.Step;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks a host up where an earlier controller left it (see {@link RunState}): fills the host's
 * variables, tally and undo side from its {@link RunState.HostState}, and says where the host goes
 * on from.
 */
final class HostRestore {
  private final HostPlan plan;
  private final Map<String, Object> vars;
  private final Tally tally;
  private final HostUndo undo;
  private final StepRunner restorer;

  /**
   * Where a restored host stands.
   *
   * @param next the index in the plan's steps of the next forward step to run
   * @param interrupted why the host must roll back before anything else, or null
   * @param cleanupUnknown why the host ends upgraded with its cleanup failed, or null
   * @param result the host's outcome, when it had one
   */
  record Restored(int next, String interrupted, String cleanupUnknown, HostResult result) {}

  HostRestore(
      HostPlan plan, Map<String, Object> vars, Tally tally, HostUndo undo, StepRunner restorer) {
    this.plan = plan;
    this.vars = vars;
    this.tally = tally;
    this.undo = undo;
    this.restorer = restorer;
  }

  /**
   * Registered values and the rollback stack of the steps that completed, less the undo work
   * already done, and its outcome if it had one. A forward step that was in flight is re-run if it
   * is idempotent; otherwise its outcome is unknown, so it counts as possibly done: its handlers
   * (or its automatic undo, from the undo state it journaled before changing the host) join the
   * stack and the host must roll back. A host whose rollback was cut short goes on with the undo
   * work that did not finish.
   */
  Restored restore(RunState.HostState state) {
    tally.resetSteps();
    int next = 0;
    vars.clear();
    vars.putAll(plan.vars());
    undo.restart(state.undone());
    PlannedStep failedStep = null;
    for (PlannedStep step : plan.steps()) {
      StepResult r = state.completed().get(step.index());
      if (r == null) continue;
      boolean looped =
          step.spec().loop() != null && state.iterations().containsKey(step.index() + ".1");
      if (!looped) tally.count(r);
      next = step.index();
      if (looped) restoreItems(step, state);
      if (step.spec().register() != null) vars.put(step.spec().register(), r.registered());
      if (r.failed() && !step.spec().ignoreErrors()) {
        failedStep = step; // its rollback had not begun, or was cut short
        continue;
      }
      if (r.status() == Status.SKIPPED || looped)
        continue; // a looped step's items were pushed one by one
      RollbackStack.Entry entry =
          new RollbackStack.Entry(
              step,
              step.handlers(),
              restorer.undoFor(step.spec(), step.step(), r, vars).orElse(null),
              Collections.unmodifiableMap(new LinkedHashMap<>(vars)));
      boolean irreversible =
          step.phase().keepsUpgrade()
              && r.changed()
              && entry.undo() == null
              && entry.handlers().isEmpty();
      undo.restored(entry, irreversible ? step.name() : null);
    }
    HostResult result = state.result();
    if (result != null
        && result.outcome() != Outcome.SUCCEEDED
        && result.outcome() != Outcome.CLEANUP_FAILED) {
      undo.dropAll(); // that host was already rolled back, or never changed
      return new Restored(next, null, null, result);
    }
    if (result == null && state.inFlight() > 0) return inFlight(state);
    if (result == null && state.rollingBack()) {
      return new Restored(
          next,
          "the controller stopped during this host's rollback; the undo work that did not finish runs now",
          null,
          null);
    }
    if (result == null && failedStep != null && failedStep.phase().keepsUpgrade()) {
      return new Restored(
          next,
          null,
          "cleanup step '"
              + failedStep.name()
              + "' failed; the controller stopped before it said so",
          null);
    }
    if (result == null && failedStep != null) {
      return new Restored(
          next,
          "step '"
              + failedStep.name()
              + "' failed and the controller stopped before the host was rolled back",
          null,
          null);
    }
    return new Restored(next, null, null, result);
  }

  /** A forward step was running when the controller stopped. */
  private Restored inFlight(RunState.HostState state) {
    PlannedStep s = plan.steps().get(state.inFlight() - 1);
    if (s.phase().keepsUpgrade() && !s.spec().idempotent()) {
      // Past verify the upgrade holds; a cleanup is never a reason to roll back (as when it
      // fails).
      return new Restored(
          state.inFlight(),
          null,
          "cleanup step '"
              + s.name()
              + "' was running when the controller stopped; whether it "
              + "finished is unknown: check it on the host (mark it idempotent: true to have resume run it again)",
          null);
    }
    if (s.spec().idempotent()) return new Restored(state.inFlight() - 1, null, null, null);
    if (s.spec().loop() != null) {
      // the items that finished are undone one by one, and the one that was running counts as
      // possibly done
      restoreItems(s, state);
      int i = state.iterationInFlight();
      if (i > 0) {
        Map<String, Object> iv = itemVars(s, vars, i);
        undo.restored(
            new RollbackStack.Entry(
                s, s.handlers(), undoInFlight(s, state, iv), Collections.unmodifiableMap(iv), i),
            null);
      }
      return new Restored(
          state.inFlight(),
          "step '"
              + s.name()
              + "' was running when the controller stopped"
              + (i > 0 ? " (item " + i + ")" : "")
              + "; it is not marked idempotent, so it counts as possibly done and the host is rolled back",
          null,
          null);
    }
    Step.Undo u = undoInFlight(s, state, vars);
    undo.restored(
        new RollbackStack.Entry(
            s, s.handlers(), u, Collections.unmodifiableMap(new LinkedHashMap<>(vars))),
        null);
    return new Restored(
        state.inFlight(),
        "step '"
            + s.name()
            + "' was running when the controller stopped; it is not marked "
            + "idempotent, so it counts as possibly done and the host is rolled back",
        null,
        null);
  }

  /** The automatic undo of a step in flight, from the undo state it journaled, or null. */
  private Step.Undo undoInFlight(
      PlannedStep s, RunState.HostState state, Map<String, Object> scope) {
    return state.checkpoint() == null
        ? null
        : restorer
            .undoFor(
                s.spec(),
                s.step(),
                StepResult.changed("in flight when the controller stopped")
                    .withData(state.checkpoint()),
                scope)
            .orElse(null);
  }

  /**
   * The items of a looped step that finished in an earlier controller's run, each with its own
   * undo.
   */
  private void restoreItems(PlannedStep step, RunState.HostState state) {
    for (int i = 1; ; i++) {
      StepResult r = state.iterations().get(step.index() + "." + i);
      if (r == null) return;
      tally.count(r);
      if (r.status() == Status.SKIPPED || (r.failed() && !step.spec().ignoreErrors())) continue;
      Map<String, Object> iv = itemVars(step, vars, i);
      if (step.spec().register() != null) iv.put(step.spec().register(), r.registered());
      RollbackStack.Entry entry =
          new RollbackStack.Entry(
              step,
              step.handlers(),
              restorer.undoFor(step.spec(), step.step(), r, iv).orElse(null),
              Collections.unmodifiableMap(iv),
              i);
      boolean irreversible =
          step.phase() == Phase.CLEANUP
              && r.changed()
              && entry.undo() == null
              && entry.handlers().isEmpty();
      undo.restored(entry, irreversible ? entry.name() : null);
    }
  }

  /**
   * The variables of item {@code i} of a looped step, its items evaluated again with the values of
   * the time (the journal keeps results, not items: an item may be a secret, which the journal
   * masks).
   */
  private static Map<String, Object> itemVars(PlannedStep step, Map<String, Object> scope, int i) {
    Map<String, Object> iv = new LinkedHashMap<>(scope);
    List<Object> items;
    try {
      items = StepRunner.loopItems(step.spec(), scope);
    } catch (RuntimeException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "the items of looped step '"
              + step.name()
              + "' cannot be evaluated again to undo item "
              + i
              + ": "
              + e.getMessage());
    }
    if (i > items.size()) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "looped step '"
              + step.name()
              + "' now has "
              + items.size()
              + " item(s), but its item "
              + i
              + " ran: its items changed since, so it cannot be undone safely");
    }
    iv.put(step.spec().loopVar(), items.get(i - 1));
    return iv;
  }
}
