package io.runbook.execution;

import io.runbook.event.EventListener;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.model.Phase;
import io.runbook.model.Runbook;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * One host through a run: connect and lock, then forward steps in order (in as many calls as the
 * rollout needs: preflight first, later the rest), the gate, and, on a failure, the host's rollback
 * stack last first followed by the runbook's rollback phase. A rollback handler that fails stops
 * the rollback and marks the host as needing a person, listing what was not undone.
 *
 * <p>The session orchestrates; its collaborators own their state: {@link HostLink} the connection
 * and lock, {@link HostSteps} running a step, {@link HostUndo} the rollback stack and the rollback,
 * {@link HostRestore} resuming from the journal, {@link Tally} the counts.
 *
 * <p>Once a session has a {@link #result()}, it is final; later calls do nothing.
 */
final class HostSession implements AutoCloseable {
  private final HostPlan plan;
  private final RunControl control;
  private final EventListener events;
  private final Map<String, Object> vars;
  private final long started = System.nanoTime();
  // Held by whichever thread works on this host (a fork, or the lease keeper): the transport serves
  // one thread at a time.
  private final ReentrantLock busy = new ReentrantLock();
  private final Tally tally = new Tally();
  private final HostLink link;
  private final HostSteps steps;
  private final HostUndo undo;
  private int next;
  private HostResult result;
  private String interrupted;
  private String cleanupUnknown;

  HostSession(HostPlan plan, Runbook runbook, EventListener events, RunControl control) {
    this.plan = plan;
    this.events = events;
    this.control = control;
    this.vars = new LinkedHashMap<>(plan.vars());
    this.link = new HostLink(plan, runbook, events, control, this::notTouched, this::lockLost);
    this.steps = new HostSteps(plan.name(), events, link, tally);
    this.undo = new HostUndo(plan.name(), events, link, steps, tally);
  }

  String name() {
    return plan.name();
  }

  HostResult result() {
    return result;
  }

  /** True while the host has changes that a rollback would undo. */
  boolean changedSomething() {
    return undo.hasWork();
  }

  /**
   * Picks the host up where an earlier controller left it (see {@link HostRestore}); {@link
   * #interrupted()} then says why the host must roll back, if it must.
   */
  void restore(RunState.HostState state, StepRunner restorer) {
    link.recovering();
    // May be called again, once the host is locked, with what the journal says by then (see
    // Executor).
    HostRestore.Restored r = new HostRestore(plan, vars, tally, undo, restorer).restore(state);
    next = r.next();
    interrupted = r.interrupted();
    cleanupUnknown = r.cleanupUnknown();
    result = r.result();
  }

  /**
   * Cleanup steps of the run that changed this host and cannot be undone (e.g. the old release
   * removed).
   */
  List<String> irreversible() {
    return undo.irreversible();
  }

  /**
   * Picks a resumed host up: a cleanup whose outcome the dead controller never learnt leaves the
   * host upgraded with its cleanup failed; an interrupted step or rollback rolls the host back;
   * otherwise the host goes on with its preflight if it had not finished it.
   */
  void recover() {
    if (result != null) return;
    if (cleanupUnknown != null) finish(Outcome.CLEANUP_FAILED, null, cleanupUnknown);
    else if (interrupted != null) rollback(interrupted, "the controller stopped during this step");
    else advance(p -> p == Phase.PREFLIGHT);
  }

  /** Why a resumed host must roll back before anything else, or null. */
  String interrupted() {
    return interrupted;
  }

  /**
   * Connects and takes the host lock; false (with a final result) when the host is unreachable or
   * locked.
   */
  boolean open(Connector connector) {
    link.connectWith(connector);
    events.on(new HostStarted(Instant.now(), plan.name(), plan.mode(), plan.host().address()));
    String problem = link.connect(connector);
    if (problem == null) return true;
    if (problem.startsWith("unreachable: "))
      finish(Outcome.UNREACHABLE, null, problem.substring(13));
    else if (undo.error() != null) finish(Outcome.ROLLBACK_FAILED, null, problem);
    else finish(Outcome.FAILED, null, problem);
    return false;
  }

  /**
   * For a host that had finished before this controller started (resume): takes its lock back from
   * the dead controller, so that it is released at the end of the run (or kept for a fleet
   * rollback), without touching its result. A host that cannot be reached keeps its lock until the
   * lease runs out.
   */
  void reclaim(Connector connector) {
    link.reclaim(connector);
  }

  /**
   * Whether commands of this very run were still running here when this controller took the host:
   * then the controller that ran them may have journaled more since this one read the journal.
   */
  boolean hadOrphansOfThisRun() {
    return link.hadOrphansOfThisRun();
  }

  /** Whether this session holds the host's lock (reclaimed or opened). */
  boolean locked() {
    return link.locked();
  }

  /**
   * Runs the next forward steps while their phase matches. Returns true when they all passed; on a
   * failure the host is rolled back and has its final result.
   */
  boolean advance(Predicate<Phase> phases) {
    if (result != null || control.superseded()) return false;
    List<PlannedStep> all = plan.steps();
    while (next < all.size() && phases.test(all.get(next).phase())) {
      PlannedStep step = all.get(next);
      if (control.cancelled()) {
        stopBefore(step);
        return false;
      }
      if (!link.renewLock()) return false;
      StepRunner.Outcome o =
          steps.forward(step, vars, (io, iv, i) -> undo.pushItem(step, io, iv, i));
      next++;
      StepResult r = o.result();
      if (o.lost()) {
        rollback(HostSteps.liveName(step, vars), r.message());
        return false;
      }
      if (!r.failed() || step.spec().ignoreErrors()) {
        if (r.status() != Status.SKIPPED && step.spec().loop() == null) undo.push(step, o, vars);
        continue;
      }
      if (step.phase().keepsUpgrade()) {
        finish(Outcome.CLEANUP_FAILED, HostSteps.liveName(step, vars), r.message());
        return false;
      }
      rollback(HostSteps.liveName(step, vars), r.message());
      return false;
    }
    return true;
  }

  /** The run stopped before {@code step}, which never ran. */
  private void stopBefore(PlannedStep step) {
    // A host that passed verify keeps its upgrade; only its cleanup is skipped.
    if (step.phase().keepsUpgrade()) {
      finish(
          Outcome.CLEANUP_FAILED, null, step.phase().key() + " skipped: " + control.stopReason());
      return;
    }
    // No step failed: the run stopped before this one, which never ran.
    boolean changedNothing =
        !undo.hasWork() && (next == 0 || plan.steps().get(next - 1).phase() == Phase.PREFLIGHT);
    rollback(
        null,
        control.stopReason() + " before '" + HostSteps.liveName(step, vars) + "'",
        changedNothing ? Outcome.NOT_RUN : Outcome.ROLLED_BACK);
  }

  /** Runs {@code work} on this host, waiting while the lease keeper renews its lock. */
  void exclusively(Runnable work) {
    busy.lock();
    try {
      work.run();
    } finally {
      busy.unlock();
    }
  }

  /**
   * Renews the lease of a host that waits for its batch, or has finished and may still be rolled
   * back with the fleet, unless a fork is working on it right now (then that fork renews it between
   * steps). A host waiting for its batch whose lock another run broke is left alone, as between
   * steps.
   */
  void keepLease() {
    if (!busy.tryLock()) return;
    try {
      link.keepLease(result != null);
    } finally {
      busy.unlock();
    }
  }

  /** Runs the rollout's gate; a host that fails it is rolled back. */
  boolean gate() {
    if (result != null) return false;
    for (PlannedStep g : plan.gate()) {
      StepRunner.Outcome o = steps.gate(g, new LinkedHashMap<>(vars));
      if (o.lost() || o.result().failed()) {
        rollback("gate: " + g.name(), o.result().message());
        return false;
      }
    }
    return true;
  }

  /**
   * The run-once session ends with its changes kept: the rollout stopped with upgraded targets
   * still serving, which may need them (a shared migration). A later {@code rollback RUN_ID} undoes
   * them.
   */
  void keep(String why) {
    if (result == null) finish(Outcome.SUCCEEDED, null, why);
  }

  /** Every forward step passed. */
  void succeed() {
    if (result == null) finish(Outcome.SUCCEEDED, null, null);
  }

  /**
   * Undoes what the host did (its stack last first, then the rollback phase) and gives it its final
   * result: {@code undone} when it had not failed itself (stopped rollout, fleet rollback,
   * preflight failure elsewhere).
   */
  void rollback(String failedStep, String reason) {
    rollback(failedStep, reason, Outcome.ROLLED_BACK);
  }

  void undo(String reason, Outcome outcome) {
    if (link.lockLost()) return;
    if (result != null
        && result.outcome() != Outcome.SUCCEEDED
        && result.outcome() != Outcome.CLEANUP_FAILED) return;
    if (!link.connected()) {
      // a host finished before this controller started (rollback of a past run): reconnect first
      if (!undo.hasWork() || link.connector() == null) return;
      HostResult before = result;
      if (!open(link.connector())) {
        undo.fail("not undone: " + result.message());
        result =
            tally.result(
                plan,
                Outcome.ROLLBACK_FAILED,
                null,
                before == null ? null : before.message(),
                undo.error(),
                result.durationMillis());
        events.on(new HostFinished(Instant.now(), result));
        return;
      }
    }
    result = null;
    rollback(null, reason, outcome);
  }

  /** For hosts that may need undoing later without being opened now. */
  void connectWith(Connector connector) {
    link.connectWith(connector);
  }

  private void rollback(String failedStep, String reason, Outcome outcome) {
    if (control.superseded())
      return; // the controller that took the run over undoes what needs undoing
    if (!link.verifyLock()) return;
    // The rollback phase restores service; a host that only ran its preflight never lost it.
    boolean beyondPreflight = next > 0 && plan.steps().get(next - 1).phase() != Phase.PREFLIGHT;
    List<PlannedStep> phase = beyondPreflight ? plan.rollbackPhase() : List.of();
    switch (undo.rollBack(failedStep, reason, phase, vars)) {
      case NOTHING_TO_UNDO ->
          finish(failedStep == null ? outcome : Outcome.FAILED, failedStep, reason);
      case UNDONE -> finish(outcome, failedStep, reason);
      case FAILED -> finish(Outcome.ROLLBACK_FAILED, failedStep, reason);
    }
  }

  /** A command of another run still runs on the host, which is left as it is. */
  private void notTouched(String why) {
    undo.fail(why);
  }

  /** Another run broke the host's lock: the host is left for a person. */
  private void lockLost(String rollbackError, String message) {
    undo.fail(rollbackError);
    finish(Outcome.ROLLBACK_FAILED, null, message);
  }

  private void finish(Outcome outcome, String failedStep, String message) {
    result =
        tally.result(
            plan,
            outcome,
            failedStep,
            message,
            undo.error(),
            Duration.ofNanos(System.nanoTime() - started).toMillis());
    events.on(new HostFinished(Instant.now(), result));
  }

  /** Releases the lock and the connection. */
  @Override
  public void close() {
    link.close();
  }
}
