package io.runbook.execution;

import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.StepResult;

/** The counts of a host's steps by result, and of its undo work done: what its result reports. */
final class Tally {
  private int ok, changed, failed, skipped, rolledBack;

  void count(StepResult r) {
    switch (r.status()) {
      case OK -> ok++;
      case CHANGED -> changed++;
      case FAILED -> failed++;
      case SKIPPED -> skipped++;
    }
  }

  void rolledBack() {
    rolledBack++;
  }

  /**
   * Forgets the forward steps counted, for a restore from the journal that counts them again; the
   * undo work this controller did stays counted.
   */
  void resetSteps() {
    ok = changed = failed = skipped = 0;
  }

  HostResult result(
      HostPlan plan,
      Outcome outcome,
      String failedStep,
      String message,
      String rollbackError,
      long durationMillis) {
    return new HostResult(
        plan.name(),
        plan.mode(),
        outcome,
        ok,
        changed,
        failed,
        skipped,
        rolledBack,
        failedStep,
        message,
        rollbackError,
        durationMillis);
  }
}
