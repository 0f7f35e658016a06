package io.runbook.execution;

import io.runbook.model.Phase;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import java.util.List;
import java.util.Set;

/**
 * When the run-once session ({@code once@db}: before_all steps, then after_all steps) runs and when
 * its work is undone. What before_all did (a shared migration) serves every upgraded target, so it
 * is undone only once no target remains upgraded: after the whole fleet under {@code
 * rollback-fleet} and {@code rollback RUN_ID}, and kept under {@code rollback-host} while upgraded
 * targets still serve.
 */
final class RunOncePhases {
  private RunOncePhases() {}

  /**
   * Runs before_all (or what a resumed run has left of it); null when it passed, else why the
   * rollout stops.
   */
  static String beforeAll(HostSession once) {
    if (once.result() == null) once.advance(p -> p == Phase.BEFORE_ALL);
    HostResult r = once.result();
    if (r == null || r.outcome() == Outcome.SUCCEEDED || r.outcome() == Outcome.CLEANUP_FAILED)
      return null;
    return "before_all ("
        + once.name()
        + ")"
        + (r.failedStep() != null ? " failed at '" + r.failedStep() + "'" : " did not complete")
        + (r.message() == null ? "" : " (" + r.message() + ")")
        + "; it was undone and no target was changed beyond its preflight";
  }

  /**
   * After the batches: when the rollout passed, runs after_all; when it stopped, undoes before_all
   * if no target remains upgraded, and keeps it otherwise. Returns why the rollout stopped,
   * extended with what was kept.
   */
  static String afterBatches(HostSession once, List<HostSession> targets, String stopped) {
    if (once.result() != null) return stopped;
    if (stopped == null) {
      if (once.advance(p -> true)) once.succeed();
      return null;
    }
    String kept = undoAfterTargets(once, targets, stopped);
    return kept == null ? stopped : stopped + "; " + kept;
  }

  /**
   * Undoes the run-once work if no target remains upgraded; else keeps it and says why (returned).
   */
  static String undoAfterTargets(HostSession once, List<HostSession> targets, String reason) {
    List<String> upgraded =
        targets.stream().filter(RunOncePhases::upgraded).map(HostSession::name).toList();
    if (upgraded.isEmpty()) {
      once.undo(reason + "; no target remains upgraded", Outcome.UNDONE);
      return null;
    }
    String kept =
        "before_all kept: "
            + upgraded.size()
            + (upgraded.size() == 1 ? " host" : " hosts")
            + " still upgraded ("
            + String.join(", ", upgraded)
            + ")";
    once.keep(kept);
    return kept;
  }

  /**
   * Whether a rollback of the run undoes the run-once work too: it has some, and every target that
   * is upgraded is among those being rolled back ({@code only}, or all).
   */
  static boolean undoneWith(HostSession once, List<HostSession> targets, Set<String> only) {
    if (once == null || !once.changedSomething()) return false;
    return targets.stream()
        .allMatch(
            t -> t.changedSomething() ? only == null || only.contains(t.name()) : !upgraded(t));
  }

  /** Not back on the old release: upgraded and kept, or its rollback did not finish. */
  private static boolean upgraded(HostSession t) {
    if (t.changedSomething()) return true;
    HostResult r = t.result();
    return r != null
        && (r.outcome() == Outcome.SUCCEEDED
            || r.outcome() == Outcome.CLEANUP_FAILED
            || r.outcome() == Outcome.ROLLBACK_FAILED);
  }
}
