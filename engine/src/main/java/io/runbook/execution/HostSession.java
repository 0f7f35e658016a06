package io.runbook.execution;

import io.runbook.RunbookException;
import io.runbook.event.EventListener;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackPushed;
import io.runbook.event.RollbackStarted;
import io.runbook.event.StepCheckpoint;
import io.runbook.lock.HostLock;
import io.runbook.model.Phase;
import io.runbook.model.Runbook;
import io.runbook.model.StepSpec;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.step.Step;
import io.runbook.template.Templates;
import io.runbook.template.Unknown;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
 * <p>Once a session has a {@link #result()}, it is final; later calls do nothing.
 */
final class HostSession implements AutoCloseable {
  private final HostPlan plan;
  private final Runbook runbook;
  private final EventListener events;
  private final RunControl control;
  private final Map<String, Object> vars;
  private final RollbackStack stack = new RollbackStack();
  private final long started = System.nanoTime();
  private Transport transport;
  private StepRunner runner;
  private HostLock lock;
  private long lockRenewedAt = System.nanoTime();
  // Held by whichever thread works on this host (a fork, or the lease keeper): the transport serves
  // one
  // thread at a time.
  private final ReentrantLock busy = new ReentrantLock();
  private int next;
  private final Tally tally = new Tally();
  private String rollbackError;
  private HostResult result;
  private Connector connector;
  private String interrupted;
  // Undo work done (by this controller or, per the journal, an earlier one): never run again.
  private final java.util.Set<String> undone = new java.util.LinkedHashSet<>();
  // Whose commands may still run on the host when this controller opens it: this run's (resume,
  // rollback)
  private boolean recovering;
  private long lockVerifiedAt = System.nanoTime();
  private boolean lockLost;
  private boolean orphansOfThisRun;
  private String cleanupUnknown;
  // Cleanup steps that changed the host and have no undo: past them, a rollback cannot restore the
  // host.
  private final List<String> irreversible = new ArrayList<>();
  private Become become = Become.NONE;
  // Connections to the hosts this host's steps are delegated to (delegate_to), opened when first
  // needed.
  private final Map<String, Delegate> delegates = new LinkedHashMap<>();

  /**
   * A host a step runs on instead of this one. Its commands carry the run tag (so orphans are
   * found) but not this host's lock guard: the lock lives on the target, and the delegate is not
   * locked by this run.
   */
  private record Delegate(Transport transport, StepRunner runner) {}

  /**
   * Where a step runs: this host's runner (delegate null), a delegate's, or nowhere ({@code
   * problem}).
   */
  private record Where(StepRunner runner, String delegate, String problem) {}

  /** An item of a looped forward step that passed, with its variables: its undo joins the stack. */
  @FunctionalInterface
  private interface ItemDone {
    void accept(StepRunner.Outcome outcome, Map<String, Object> itemVars, int iteration);
  }

  HostSession(HostPlan plan, Runbook runbook, EventListener events, RunControl control) {
    this.plan = plan;
    this.runbook = runbook;
    this.events = events;
    this.control = control;
    this.vars = new LinkedHashMap<>(plan.vars());
  }

  String name() {
    return plan.name();
  }

  HostResult result() {
    return result;
  }

  /** True while the host has changes that a rollback would undo. */
  boolean changedSomething() {
    return !stack.isEmpty();
  }

  /**
   * Picks the host up where an earlier controller left it (see {@link RunState}): registered values
   * and the rollback stack of the steps that completed, less the undo work already done, and its
   * outcome if it had one. A forward step that was in flight is re-run if it is idempotent;
   * otherwise its outcome is unknown, so it counts as possibly done: its handlers (or its automatic
   * undo, from the undo state it journaled before changing the host) join the stack and {@link
   * #interrupted()} says why the host must roll back. A host whose rollback was cut short goes on
   * with the undo work that did not finish.
   */
  void restore(RunState.HostState state, StepRunner restorer) {
    recovering = true;
    // May be called again, once the host is locked, with what the journal says by then (see
    // Executor).
    tally.resetSteps();
    next = 0;
    interrupted = null;
    cleanupUnknown = null;
    while (!stack.isEmpty()) stack.pop();
    vars.clear();
    vars.putAll(plan.vars());
    undone.clear();
    undone.addAll(state.undone());
    irreversible.clear();
    PlannedStep failedStep = null;
    for (PlannedStep step : plan.steps()) {
      StepResult r = state.completed().get(step.index());
      if (r == null) continue;
      boolean looped =
          step.spec().loop() != null && state.iterations().containsKey(step.index() + ".1");
      if (!looped) tally.count(r);
      next = step.index();
      if (looped) restoreItems(step, state, restorer);
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
      if (step.phase().keepsUpgrade()
          && r.changed()
          && entry.undo() == null
          && entry.handlers().isEmpty()) {
        irreversible.add(step.name());
      }
      stack.push(entry, undone);
    }
    result = state.result();
    if (result != null
        && result.outcome() != Outcome.SUCCEEDED
        && result.outcome() != Outcome.CLEANUP_FAILED) {
      while (!stack.isEmpty()) stack.pop(); // that host was already rolled back, or never changed
      return;
    }
    if (result == null && state.inFlight() > 0) {
      PlannedStep s = plan.steps().get(state.inFlight() - 1);
      if (s.phase().keepsUpgrade() && !s.spec().idempotent()) {
        // Past verify the upgrade holds; a cleanup is never a reason to roll back (as when it
        // fails).
        next = state.inFlight();
        cleanupUnknown =
            "cleanup step '"
                + s.name()
                + "' was running when the controller stopped; whether it "
                + "finished is unknown: check it on the host (mark it idempotent: true to have resume run it again)";
      } else if (s.spec().idempotent()) {
        next = state.inFlight() - 1;
      } else if (s.spec().loop() != null) {
        // the items that finished are undone one by one, and the one that was running counts as
        // possibly done
        next = state.inFlight();
        restoreItems(s, state, restorer);
        int i = state.iterationInFlight();
        if (i > 0) {
          Map<String, Object> iv = itemVars(s, vars, i);
          Step.Undo undo =
              state.checkpoint() == null
                  ? null
                  : restorer
                      .undoFor(
                          s.spec(),
                          s.step(),
                          StepResult.changed("in flight when the controller stopped")
                              .withData(state.checkpoint()),
                          iv)
                      .orElse(null);
          stack.push(
              new RollbackStack.Entry(s, s.handlers(), undo, Collections.unmodifiableMap(iv), i),
              undone);
        }
        interrupted =
            "step '"
                + s.name()
                + "' was running when the controller stopped"
                + (i > 0 ? " (item " + i + ")" : "")
                + "; it is not marked idempotent, so it counts as possibly done and the host is rolled back";
      } else {
        next = state.inFlight();
        Step.Undo undo =
            state.checkpoint() == null
                ? null
                : restorer
                    .undoFor(
                        s.spec(),
                        s.step(),
                        StepResult.changed("in flight when the controller stopped")
                            .withData(state.checkpoint()),
                        vars)
                    .orElse(null);
        stack.push(
            new RollbackStack.Entry(
                s, s.handlers(), undo, Collections.unmodifiableMap(new LinkedHashMap<>(vars))),
            undone);
        interrupted =
            "step '"
                + s.name()
                + "' was running when the controller stopped; it is not marked "
                + "idempotent, so it counts as possibly done and the host is rolled back";
      }
    } else if (result == null && state.rollingBack()) {
      interrupted =
          "the controller stopped during this host's rollback; the undo work that did not finish runs now";
    } else if (result == null && failedStep != null && failedStep.phase().keepsUpgrade()) {
      cleanupUnknown =
          "cleanup step '"
              + failedStep.name()
              + "' failed; the controller stopped before it said so";
    } else if (result == null && failedStep != null) {
      interrupted =
          "step '"
              + failedStep.name()
              + "' failed and the controller stopped before the host was rolled back";
    }
  }

  /**
   * The items of a looped step that finished in an earlier controller's run, each with its own
   * undo.
   */
  private void restoreItems(PlannedStep step, RunState.HostState state, StepRunner restorer) {
    for (int i = 1; ; i++) {
      StepResult r = state.iterations().get(step.index() + "." + i);
      if (r == null) return;
      tally.count(r);
      if (r.status() == Status.SKIPPED || r.failed() && !step.spec().ignoreErrors()) continue;
      Map<String, Object> iv = itemVars(step, vars, i);
      if (step.spec().register() != null) iv.put(step.spec().register(), r.registered());
      RollbackStack.Entry entry =
          new RollbackStack.Entry(
              step,
              step.handlers(),
              restorer.undoFor(step.spec(), step.step(), r, iv).orElse(null),
              Collections.unmodifiableMap(iv),
              i);
      if (step.phase() == Phase.CLEANUP
          && r.changed()
          && entry.undo() == null
          && entry.handlers().isEmpty()) {
        irreversible.add(entry.name());
      }
      stack.push(entry, undone);
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
          io.runbook.ErrorCode.INTERNAL,
          "the items of looped step '"
              + step.name()
              + "' cannot be evaluated again to undo item "
              + i
              + ": "
              + e.getMessage());
    }
    if (i > items.size()) {
      throw new RunbookException(
          io.runbook.ErrorCode.INTERNAL,
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

  /**
   * Cleanup steps of the run that changed this host and cannot be undone (e.g. the old release
   * removed).
   */
  List<String> irreversible() {
    return List.copyOf(irreversible);
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
    this.connector = connector;
    events.on(new HostStarted(Instant.now(), plan.name(), plan.mode(), plan.host().address()));
    String problem = connect(connector);
    if (problem == null) return true;
    if (problem.startsWith("unreachable: "))
      finish(Outcome.UNREACHABLE, null, problem.substring(13));
    else if (rollbackError != null) finish(Outcome.ROLLBACK_FAILED, null, problem);
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
    this.connector = connector;
    String problem = connect(connector);
    if (problem != null) {
      if (runner != null) runner.close();
      if (transport != null) transport.close();
      runner = null;
      transport = null;
      lock = null;
    }
  }

  /** Connects, locks, and waits out other controllers' commands; null when done, else why not. */
  private String connect(Connector connector) {
    this.connector = connector;
    try {
      transport = new RunTaggedTransport(connector.open(plan.host()), control.runId());
    } catch (TransportException e) {
      return "unreachable: " + e.getMessage();
    }
    become =
        runbook.become() || plan.host().become()
            ? Become.as(plan.host().becomeUser())
            : Become.NONE;
    if (runner != null) runner.close();
    runner = new StepRunner(transport, runbook, become);
    try {
      lock = control.lock(((RunTaggedTransport) transport).untagged(), plan);
      lock.tookOverFrom()
          .ifPresent(
              h ->
                  events.on(
                      new LockChanged(
                          Instant.now(),
                          plan.name(),
                          control.breakLock() ? "broken" : "took_over",
                          h.runId() + " (" + h.user() + "@" + h.controller() + ")")));
      events.on(new LockChanged(Instant.now(), plan.name(), "taken", null));
      lockVerifiedAt = lockRenewedAt = System.nanoTime();
      ((RunTaggedTransport) transport).guardWith(lock);
      // Another controller's command may still run here: its own (resume, rollback), or the one
      // whose lock
      // this run took over. Nothing is done to the host until those commands are gone.
      List<String> others = new ArrayList<>();
      if (recovering) others.add(control.runId());
      lock.tookOverFrom()
          .map(HostLock.Holder::runId)
          .filter(r -> !r.equals(control.runId()))
          .ifPresent(others::add);
      for (String run : others) {
        Orphans.Outcome o =
            Orphans.settle(
                ((RunTaggedTransport) transport).untagged(), become, run, control.orphanWait());
        if (!o.found()) continue;
        events.on(
            new OrphanFound(
                Instant.now(), plan.name(), run, o.processes(), o.action(), o.waitedMillis()));
        if (run.equals(control.runId())) orphansOfThisRun = true;
        if (o.action().equals("left")) {
          rollbackError =
              "not touched: a command of run "
                  + run
                  + " still runs there and could not be stopped ("
                  + String.join("; ", o.processes())
                  + "); stop it by hand, then resume or roll back again";
          return "a command of another controller still runs on this host";
        }
      }
      return null;
    } catch (TransportException e) {
      return "unreachable: " + e.getMessage();
    } catch (RunbookException e) {
      return e.getMessage();
    }
  }

  /**
   * Whether commands of this very run were still running here when this controller took the host:
   * then the controller that ran them may have journaled more since this one read the journal.
   */
  boolean hadOrphansOfThisRun() {
    return orphansOfThisRun;
  }

  /** Whether this session holds the host's lock (reclaimed or opened). */
  boolean locked() {
    return lock != null && !lockLost;
  }

  /**
   * Runs the next forward steps while their phase matches. Returns true when they all passed; on a
   * failure the host is rolled back and has its final result.
   */
  boolean advance(Predicate<Phase> phases) {
    if (result != null || control.superseded()) return false;
    List<PlannedStep> steps = plan.steps();
    while (next < steps.size() && phases.test(steps.get(next).phase())) {
      PlannedStep step = steps.get(next);
      if (control.cancelled()) {
        // A host that passed verify keeps its upgrade; only its cleanup is skipped.
        if (step.phase().keepsUpgrade()) {
          finish(
              Outcome.CLEANUP_FAILED,
              null,
              step.phase().key() + " skipped: " + control.stopReason());
        } else {
          // No step failed: the run stopped before this one, which never ran.
          boolean changedNothing =
              stack.isEmpty()
                  && (next == 0 || plan.steps().get(next - 1).phase() == Phase.PREFLIGHT);
          rollback(
              null,
              control.stopReason() + " before '" + liveName(step, vars) + "'",
              changedNothing ? Outcome.NOT_RUN : Outcome.ROLLED_BACK);
        }
        return false;
      }
      if (!renewLock()) return false;
      StepRunner.Outcome o =
          execute(step, false, null, vars, null, (io, iv, i) -> pushItem(step, io, iv, i));
      next++;
      StepResult r = o.result();
      if (o.lost()) {
        rollback(liveName(step, vars), r.message());
        return false;
      }
      if (!r.failed() || step.spec().ignoreErrors()) {
        if (r.status() != Status.SKIPPED && step.spec().loop() == null) push(step, o);
        continue;
      }
      if (step.phase().keepsUpgrade()) {
        finish(Outcome.CLEANUP_FAILED, liveName(step, vars), r.message());
        return false;
      }
      rollback(liveName(step, vars), r.message());
      return false;
    }
    return true;
  }

  /**
   * Keeps the host's lease, and checks every few seconds that the lock is still this run's. If
   * another run broke it, that run may be changing the host now: undoing our steps could fight it,
   * so the host is left for a person, and the journal and console say so.
   */
  private boolean renewLock() {
    if (lockLost) return false;
    if (!lockCheckDue()) return true;
    try {
      lock.renew();
      lockVerifiedAt = lockRenewedAt = System.nanoTime();
      return true;
    } catch (TransportException e) {
      return true; // the next step meets the lost connection and handles it
    } catch (RunbookException e) {
      lockLost(e);
      return false;
    }
  }

  private void lockLost(RunbookException e) {
    lockLost = true;
    if (e instanceof io.runbook.lock.HostLockedException le
        && le.holder().isPresent()
        && le.holder().get().runId().equals(control.runId())) {
      io.runbook.lock.HostLock.Holder by = le.holder().get();
      control.supersede(by.user() + "@" + by.controller());
    }
    String to =
        e instanceof io.runbook.lock.HostLockedException le
            ? le.holder()
                .map(h -> h.runId() + " (" + h.user() + "@" + h.controller() + ")")
                .orElse("nobody (removed)")
            : e.getMessage();
    events.on(new LockChanged(Instant.now(), plan.name(), "lost", to));
    rollbackError = "not rolled back: " + e.getMessage();
    finish(Outcome.ROLLBACK_FAILED, null, "lost the host lock to " + to);
  }

  /** Whether this host holds a lock whose lease is due for renewal. */
  private boolean leaseDue() {
    return lock != null && System.nanoTime() - lockRenewedAt >= control.renewEvery().toNanos();
  }

  /** Whether a host being worked on should check (and renew) its lock now. */
  private boolean lockCheckDue() {
    return lock != null && System.nanoTime() - lockVerifiedAt >= control.verifyEvery().toNanos();
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
      if (result == null && !lockLost) {
        if (leaseDue()) renewLock();
      } else if (leaseDue() && !lockLost) {
        try {
          lock.renew();
          lockRenewedAt = System.nanoTime();
        } catch (RuntimeException e) {
          // finished hosts keep their result; a fleet rollback meets the lost lock or connection
          // itself
        }
      }
    } finally {
      busy.unlock();
    }
  }

  /** Runs the rollout's gate; a host that fails it is rolled back. */
  boolean gate() {
    if (result != null) return false;
    for (PlannedStep g : plan.gate()) {
      StepRunner.Outcome o = execute(g, false, null, new LinkedHashMap<>(vars));
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
    if (lockLost) return;
    if (result != null
        && result.outcome() != Outcome.SUCCEEDED
        && result.outcome() != Outcome.CLEANUP_FAILED) return;
    if (runner == null) {
      // a host finished before this controller started (rollback of a past run): reconnect first
      if (stack.isEmpty() || connector == null) return;
      HostResult before = result;
      if (!open(connector)) {
        rollbackError = "not undone: " + result.message();
        result =
            tally.result(
                plan,
                Outcome.ROLLBACK_FAILED,
                null,
                before == null ? null : before.message(),
                rollbackError,
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
    this.connector = connector;
  }

  private void rollback(String failedStep, String reason, Outcome outcome) {
    if (control.superseded())
      return; // the controller that took the run over undoes what needs undoing
    // Before undoing anything: is the host still ours? Another run may have broken the lock
    // meanwhile.
    if (lock != null) {
      lockVerifiedAt = 0;
      if (!renewLock()) return;
    }
    // The rollback phase restores service; a host that only ran its preflight never lost it.
    boolean beyondPreflight = next > 0 && plan.steps().get(next - 1).phase() != Phase.PREFLIGHT;
    List<PlannedStep> phase = beyondPreflight ? plan.rollbackPhase() : List.of();
    boolean phaseLeft = false;
    for (int i = 0; i < phase.size(); i++) phaseLeft |= !undone.contains(phaseKey(i));
    if (stack.isEmpty() && !phaseLeft) {
      finish(failedStep == null ? outcome : Outcome.FAILED, failedStep, reason);
      return;
    }
    List<String> todo = new ArrayList<>(stack.describe(undone));
    for (int i = 0; i < phase.size(); i++)
      if (!undone.contains(phaseKey(i))) todo.add("rollback phase: " + phase.get(i).name());
    events.on(new RollbackStarted(Instant.now(), plan.name(), failedStep, reason, todo));
    while (!stack.isEmpty()) {
      RollbackStack.Entry e = stack.pop();
      String err = e.undo() != null && !undone.contains(e.autoKey()) ? undo(e) : null;
      for (int i = 0; err == null && i < e.handlers().size(); i++) {
        if (undone.contains(e.handlerKey(i))) continue;
        err = handler(e.handlers().get(i), e.name(), e.vars(), e.handlerKey(i));
      }
      if (err != null) {
        rollbackFailed(failedStep, reason, err, notUndone(phase, 0));
        return;
      }
    }
    for (int i = 0; i < phase.size(); i++) {
      if (undone.contains(phaseKey(i))) continue;
      String err = handler(phase.get(i), null, vars, phaseKey(i));
      if (err != null) {
        rollbackFailed(failedStep, reason, err, notUndone(phase, i + 1));
        return;
      }
    }
    events.on(new RollbackFinished(Instant.now(), plan.name(), true, null, List.of()));
    finish(outcome, failedStep, reason);
  }

  private static String phaseKey(int i) {
    return "phase:" + (i + 1);
  }

  private void push(PlannedStep step, StepRunner.Outcome o) {
    RollbackStack.Entry e =
        new RollbackStack.Entry(
            step,
            step.handlers(),
            o.undo().orElse(null),
            Collections.unmodifiableMap(new LinkedHashMap<>(vars)));
    if (e.undo() == null && e.handlers().isEmpty()) return;
    stack.push(e, undone);
    events.on(
        new RollbackPushed(
            Instant.now(),
            plan.name(),
            step.index(),
            step.name(),
            step.handlers().stream().map(PlannedStep::name).toList(),
            e.undo() == null ? null : e.undo().description()));
  }

  private void pushItem(
      PlannedStep step, StepRunner.Outcome o, Map<String, Object> itemVars, int iteration) {
    RollbackStack.Entry e =
        new RollbackStack.Entry(
            step,
            step.handlers(),
            o.undo().orElse(null),
            Collections.unmodifiableMap(new LinkedHashMap<>(itemVars)),
            iteration);
    if (e.undo() == null && e.handlers().isEmpty()) return;
    stack.push(e, undone);
    events.on(
        new RollbackPushed(
            Instant.now(),
            plan.name(),
            step.index(),
            e.name(),
            step.handlers().stream().map(PlannedStep::name).toList(),
            e.undo() == null ? null : e.undo().description()));
  }

  /**
   * What a failed rollback leaves undone: the rest of the stack, then the rollback phase from
   * {@code from}.
   */
  private List<String> notUndone(List<PlannedStep> phase, int from) {
    List<String> left = new ArrayList<>(stack.describe(undone));
    for (int i = from; i < phase.size(); i++)
      if (!undone.contains(phaseKey(i))) left.add("rollback phase: " + phase.get(i).name());
    return left;
  }

  private void rollbackFailed(String failedStep, String reason, String err, List<String> left) {
    events.on(new RollbackFinished(Instant.now(), plan.name(), false, err, List.copyOf(left)));
    rollbackError = err;
    finish(Outcome.ROLLBACK_FAILED, failedStep, reason);
  }

  /** Runs one handler; returns null on success, else why it failed. */
  private String handler(PlannedStep h, String forStep, Map<String, Object> scope, String key) {
    StepRunner.Outcome o = execute(h, true, forStep, new LinkedHashMap<>(scope), key);
    StepResult r = o.result();
    if (o.lost() || (r.failed() && !h.spec().ignoreErrors()))
      return "'" + h.name() + "': " + r.message();
    undone.add(key);
    tally.rolledBack();
    return null;
  }

  private String undo(RollbackStack.Entry e) {
    PlannedStep s = e.forStep();
    // the automatic undo runs where the step ran: on its delegate, if it had one
    Where w = where(s.spec(), e.vars());
    StepEvents shown = StepEvents.ofUndo(plan.name(), e, w.delegate());
    events.on(shown.started());
    long t0 = System.nanoTime();
    StepResult r;
    if (w.problem() != null) {
      r = StepResult.failed(w.problem());
    } else {
      try {
        r = w.runner().undo(plan.name(), s.spec(), e.undo(), e.vars());
      } catch (TransportException ex) {
        dropDelegate(w.delegate());
        r = StepResult.failed(ex.getMessage());
      }
    }
    r = r.withTiming(Duration.ofNanos(System.nanoTime() - t0), 1);
    events.on(shown.finished(null, r));
    if (r.failed()) return "'" + e.undo().description() + "': " + r.message();
    undone.add(e.autoKey());
    tally.rolledBack();
    return null;
  }

  private StepRunner.Outcome execute(
      PlannedStep step, boolean rollback, String forStep, Map<String, Object> scope) {
    return execute(step, rollback, forStep, scope, null, null);
  }

  private StepRunner.Outcome execute(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey) {
    return execute(step, rollback, forStep, scope, undoKey, null);
  }

  /**
   * Runs a step, once or, when looped, once per item: each item is its own step in the journal
   * (with its own undo key, {@code undoKey.i}, for a handler), the first failing item ends the
   * loop, and {@code register} gets {@code {results: [...]}}. A looped forward step ends with a
   * summary event, which is what {@code resume} reads as the step done.
   *
   * @param onItem for a looped forward step: called for each item that passed, to push its undo
   */
  private StepRunner.Outcome execute(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      ItemDone onItem) {
    StepSpec spec = step.spec();
    if (spec.loop() == null) return once(step, rollback, forStep, scope, undoKey, 0);
    long t0 = System.nanoTime();
    List<Object> items;
    try {
      items = StepRunner.loopItems(spec, scope);
    } catch (Templates.TemplateError e) {
      return shown(
          step,
          rollback,
          forStep,
          scope,
          undoKey,
          StepResult.failed("template: " + e.getMessage()));
    }
    if (items.isEmpty())
      return shown(
          step, rollback, forStep, scope, undoKey, StepResult.skipped("loop has no items"));
    List<Map<String, Object>> results = new ArrayList<>();
    boolean anyChanged = false;
    boolean allSkipped = true;
    boolean lost = false;
    String failure = null;
    for (int i = 1; i <= items.size(); i++) {
      String key = undoKey == null ? null : undoKey + "." + i;
      if (key != null && undone.contains(key)) continue; // this item was undone already (resume)
      Map<String, Object> iv = new LinkedHashMap<>(scope);
      iv.put(spec.loopVar(), items.get(i - 1));
      StepRunner.Outcome o = once(step, rollback, forStep, iv, key, i);
      StepResult r = o.result();
      Map<String, Object> reg = new LinkedHashMap<>(r.registered());
      reg.put("item", items.get(i - 1));
      reg.put(spec.loopVar(), items.get(i - 1));
      results.add(reg);
      boolean passed = !o.lost() && (!r.failed() || spec.ignoreErrors());
      if (passed && onItem != null && r.status() != Status.SKIPPED) onItem.accept(o, iv, i);
      if (passed && key != null) undone.add(key);
      anyChanged |= r.changed();
      allSkipped &= r.status() == Status.SKIPPED;
      if (!passed) {
        lost = o.lost();
        failure =
            "item "
                + i
                + " ("
                + spec.loopVar()
                + "="
                + label(items.get(i - 1))
                + "): "
                + r.message();
        break;
      }
    }
    Status status =
        failure != null
            ? Status.FAILED
            : anyChanged ? Status.CHANGED : allSkipped ? Status.SKIPPED : Status.OK;
    StepResult all =
        new StepResult(
            status,
            null,
            null,
            null,
            failure,
            Map.of("results", results),
            Duration.ofNanos(System.nanoTime() - t0).toMillis(),
            1);
    if (spec.register() != null) scope.put(spec.register(), all.registered());
    if (!rollback && step.index() > 0) {
      events.on(
          StepEvents.of(plan.name(), step, liveName(step, scope), false, forStep, null, 0, null)
              .loopFinished(spec.register(), all));
    }
    return new StepRunner.Outcome(all, java.util.Optional.empty(), lost);
  }

  /**
   * A step that did not get to run (its loop is empty, or cannot be evaluated), shown as one entry.
   */
  private StepRunner.Outcome shown(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      StepResult r) {
    StepEvents shown =
        StepEvents.of(
            plan.name(), step, liveName(step, scope), rollback, forStep, undoKey, 0, null);
    events.on(shown.started());
    if (!rollback && step.phase() != Phase.GATE) tally.count(r);
    events.on(shown.finished(step.spec().register(), r));
    if (step.spec().register() != null) scope.put(step.spec().register(), r.registered());
    return new StepRunner.Outcome(r, java.util.Optional.empty());
  }

  /**
   * Runs a step, or one item of a looped step ({@code iteration} > 0), where it is delegated to.
   */
  private StepRunner.Outcome once(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      int iteration) {
    String name = itemName(step, scope, iteration);
    Where w = where(step.spec(), scope);
    StepEvents shown =
        StepEvents.of(plan.name(), step, name, rollback, forStep, undoKey, iteration, w.delegate());
    events.on(shown.started());
    StepRunner.Outcome o;
    if (w.problem() != null) {
      o = new StepRunner.Outcome(StepResult.failed(w.problem()), java.util.Optional.empty());
    } else {
      // A forward step journals how to undo it before it changes the host (see Step.Undo and
      // StepContext).
      java.util.function.Consumer<Map<String, Object>> checkpoint =
          rollback || step.index() <= 0
              ? data -> {}
              : data ->
                  events.on(
                      new StepCheckpoint(
                          Instant.now(), plan.name(), step.index(), data, iteration));
      boolean had = scope.containsKey(DELEGATE_HOST);
      Object before = scope.get(DELEGATE_HOST);
      if (w.delegate() != null) scope.put(DELEGATE_HOST, w.delegate());
      try {
        o = w.runner().run(plan.name(), step.spec(), step.step(), scope, checkpoint);
      } finally {
        if (had) scope.put(DELEGATE_HOST, before);
        else scope.remove(DELEGATE_HOST);
      }
      if (o.lost() && w.delegate() != null) {
        // the delegate's connection, not this host's: a later step (or the undo) connects again
        dropDelegate(w.delegate());
      }
    }
    StepResult r = o.result();
    if (!rollback && step.phase() != Phase.GATE) tally.count(r);
    events.on(shown.finished(step.spec().register(), r));
    return o;
  }

  /**
   * The variable a delegated step sees naming the host it runs on ({@code inventory_hostname} stays
   * the target).
   */
  static final String DELEGATE_HOST = "delegate_host";

  /**
   * Where a step runs: {@code delegate_to} rendered with the target's variables names an inventory
   * host (the plan checked the names it could know); its connection is opened once, when first
   * needed, with the delegate's own inventory settings. A delegation to this very host is no
   * delegation.
   */
  private Where where(StepSpec spec, Map<String, Object> scope) {
    if (spec.delegateTo() == null) return new Where(runner, null, null);
    String name;
    try {
      name = Templates.render(spec.delegateTo(), "delegate_to", scope).strip();
    } catch (Templates.TemplateError e) {
      return new Where(null, null, "delegate_to: " + e.getMessage());
    }
    if (name.equals(plan.name())) return new Where(runner, null, null);
    io.runbook.inventory.Host host = plan.delegates().get(name);
    if (host == null) {
      return new Where(
          null,
          name,
          "delegate_to: '"
              + name
              + "' is not a host of the inventory"
              + io.runbook.yaml.Suggestions.didYouMean(name, plan.delegates().keySet()));
    }
    Delegate d = delegates.get(name);
    if (d == null) {
      if (connector == null)
        return new Where(null, name, "delegate_to: no connection to '" + name + "'");
      try {
        Transport t = new RunTaggedTransport(connector.open(host), control.runId());
        Become b = runbook.become() || host.become() ? Become.as(host.becomeUser()) : Become.NONE;
        d = new Delegate(t, new StepRunner(t, runbook, b));
        delegates.put(name, d);
      } catch (TransportException e) {
        return new Where(null, name, "delegate '" + name + "' unreachable: " + e.getMessage());
      }
    }
    return new Where(d.runner(), name, null);
  }

  private void dropDelegate(String name) {
    Delegate d = name == null ? null : delegates.remove(name);
    if (d == null) return;
    d.runner().close();
    try {
      d.transport().close();
    } catch (RuntimeException e) {
      // already gone
    }
  }

  /**
   * The name of a step, or of one item of a looped step: {@code Seed users (item=bob)}, unless the
   * name already shows the item ({@code Seed [=item]}).
   */
  static String itemName(PlannedStep step, Map<String, Object> scope, int iteration) {
    String name = liveName(step, scope);
    if (iteration <= 0) return name;
    String label = label(scope.get(step.spec().loopVar()));
    return name.contains(label) ? name : name + " (" + step.spec().loopVar() + "=" + label + ")";
  }

  private static String label(Object item) {
    String s = String.valueOf(item).replaceAll("\\s+", " ").strip();
    return s.length() > 40 ? s.substring(0, 39) + "…" : s;
  }

  /**
   * The step's name with the values registered by now: the plan rendered it before they existed
   * ({@code Point 'current' back at ⟨previous.stdout⟩}), the console and journal show what ran.
   */
  static String liveName(PlannedStep step, Map<String, Object> scope) {
    if (!Unknown.appearsIn(step.name())) return step.name();
    try {
      return Templates.render(step.spec().name(), "name", scope);
    } catch (RuntimeException e) {
      return step.name(); // a value the step's own result would give: keep the plan's placeholder
    }
  }

  private void finish(Outcome outcome, String failedStep, String message) {
    result =
        tally.result(
            plan,
            outcome,
            failedStep,
            message,
            rollbackError,
            Duration.ofNanos(System.nanoTime() - started).toMillis());
    events.on(new HostFinished(Instant.now(), result));
  }

  /** Releases the lock and the connection. */
  @Override
  public void close() {
    if (lock != null) {
      try {
        lock.release();
        events.on(new LockChanged(Instant.now(), plan.name(), "released", null));
      } catch (RuntimeException e) {
        // the lease will expire on its own; the host is no worse for it
      }
    }
    if (runner != null) runner.close();
    if (transport != null) transport.close();
    for (String d : List.copyOf(delegates.keySet())) dropDelegate(d);
  }
}
