package io.runbook.execution;

import io.runbook.event.EventListener;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackPushed;
import io.runbook.event.RollbackStarted;
import io.runbook.result.StepResult;
import io.runbook.transport.TransportException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The undo side of a host: its rollback stack, the undo work done (never run again), the cleanup
 * steps it cannot undo, and the rollback itself: the stack last first, then the runbook's rollback
 * phase, stopping at the first handler that fails.
 */
final class HostUndo {
  private final String host;
  private final EventListener events;
  private final HostLink link;
  private final HostSteps steps;
  private final Tally tally;
  private final RollbackStack stack = new RollbackStack();
  // Undo work done (by this controller or, per the journal, an earlier one): never run again.
  private final Set<String> undone = new LinkedHashSet<>();
  // Cleanup steps that changed the host and have no undo: past them, a rollback cannot restore the
  // host.
  private final List<String> irreversible = new ArrayList<>();
  private String rollbackError;

  /** How a rollback ended; the session gives the host its result from it. */
  enum Ending {
    /** The host had nothing to undo. */
    NOTHING_TO_UNDO,
    UNDONE,
    /** A piece of undo work failed; {@link #error()} says which and why. */
    FAILED
  }

  HostUndo(String host, EventListener events, HostLink link, HostSteps steps, Tally tally) {
    this.host = host;
    this.events = events;
    this.link = link;
    this.steps = steps;
    this.tally = tally;
  }

  /** True while the host has changes that a rollback would undo. */
  boolean hasWork() {
    return !stack.isEmpty();
  }

  /** Why the host was not (fully) rolled back, or null. */
  String error() {
    return rollbackError;
  }

  void fail(String error) {
    rollbackError = error;
  }

  List<String> irreversible() {
    return List.copyOf(irreversible);
  }

  /** Starts a restore from the journal: nothing to undo yet, and {@code done} done already. */
  void restart(Collection<String> done) {
    dropAll();
    undone.clear();
    undone.addAll(done);
    irreversible.clear();
  }

  /** Forgets the undo work left: the host was rolled back already, or never changed. */
  void dropAll() {
    while (!stack.isEmpty()) stack.pop();
  }

  /**
   * Pushes an entry restored from the journal, less the undo work done; {@code irreversible} names
   * a cleanup step that changed the host and has no undo (else null).
   */
  void restored(RollbackStack.Entry e, String irreversible) {
    if (irreversible != null) this.irreversible.add(irreversible);
    stack.push(e, undone);
  }

  /** A forward step passed: its undo joins the stack, with the host's variables of the time. */
  void push(PlannedStep step, StepRunner.Outcome o, Map<String, Object> vars) {
    RollbackStack.Entry e =
        new RollbackStack.Entry(
            step,
            step.handlers(),
            o.undo().orElse(null),
            Collections.unmodifiableMap(new LinkedHashMap<>(vars)));
    pushed(step, e);
  }

  /** An item of a looped forward step passed: its undo joins the stack on its own. */
  void pushItem(
      PlannedStep step, StepRunner.Outcome o, Map<String, Object> itemVars, int iteration) {
    pushed(
        step,
        new RollbackStack.Entry(
            step,
            step.handlers(),
            o.undo().orElse(null),
            Collections.unmodifiableMap(new LinkedHashMap<>(itemVars)),
            iteration));
  }

  private void pushed(PlannedStep step, RollbackStack.Entry e) {
    if (e.undo() == null && e.handlers().isEmpty()) return;
    stack.push(e, undone);
    events.on(
        new RollbackPushed(
            Instant.now(),
            host,
            step.index(),
            e.name(),
            step.handlers().stream().map(PlannedStep::name).toList(),
            e.undo() == null ? null : e.undo().description()));
  }

  /**
   * Undoes the stack last first, then the rollback {@code phase} (empty for a host that never lost
   * service), skipping the undo work done already.
   */
  Ending rollBack(
      String failedStep, String reason, List<PlannedStep> phase, Map<String, Object> vars) {
    boolean phaseLeft = false;
    for (int i = 0; i < phase.size(); i++) phaseLeft |= !undone.contains(phaseKey(i));
    if (stack.isEmpty() && !phaseLeft) return Ending.NOTHING_TO_UNDO;
    List<String> todo = new ArrayList<>(stack.describe(undone));
    for (int i = 0; i < phase.size(); i++)
      if (!undone.contains(phaseKey(i))) todo.add("rollback phase: " + phase.get(i).name());
    events.on(new RollbackStarted(Instant.now(), host, failedStep, reason, todo));
    while (!stack.isEmpty()) {
      RollbackStack.Entry e = stack.pop();
      String err = e.undo() != null && !undone.contains(e.autoKey()) ? undo(e) : null;
      for (int i = 0; err == null && i < e.handlers().size(); i++) {
        if (undone.contains(e.handlerKey(i))) continue;
        err = handler(e.handlers().get(i), e.name(), e.vars(), e.handlerKey(i));
      }
      if (err != null) return failed(err, notUndone(phase, 0));
    }
    for (int i = 0; i < phase.size(); i++) {
      if (undone.contains(phaseKey(i))) continue;
      String err = handler(phase.get(i), null, vars, phaseKey(i));
      if (err != null) return failed(err, notUndone(phase, i + 1));
    }
    events.on(new RollbackFinished(Instant.now(), host, true, null, List.of()));
    return Ending.UNDONE;
  }

  private static String phaseKey(int i) {
    return "phase:" + (i + 1);
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

  private Ending failed(String err, List<String> left) {
    events.on(new RollbackFinished(Instant.now(), host, false, err, List.copyOf(left)));
    rollbackError = err;
    return Ending.FAILED;
  }

  /** Runs one handler; returns null on success, else why it failed. */
  private String handler(PlannedStep h, String forStep, Map<String, Object> scope, String key) {
    StepRunner.Outcome o = steps.handler(h, forStep, new LinkedHashMap<>(scope), key, undone);
    StepResult r = o.result();
    if (o.lost() || (r.failed() && !h.spec().ignoreErrors()))
      return "'" + h.name() + "': " + r.message();
    undone.add(key);
    tally.rolledBack();
    return null;
  }

  /** Runs the automatic undo of an entry; returns null on success, else why it failed. */
  private String undo(RollbackStack.Entry e) {
    PlannedStep s = e.forStep();
    // the automatic undo runs where the step ran: on its delegate, if it had one
    HostLink.Where w = link.where(s.spec(), e.vars());
    StepEvents shown = StepEvents.ofUndo(host, e, w.delegate());
    events.on(shown.started());
    long t0 = System.nanoTime();
    StepResult r;
    if (w.problem() != null) {
      r = StepResult.failed(w.problem());
    } else {
      try {
        r = w.runner().undo(host, s.spec(), e.undo(), e.vars());
      } catch (TransportException ex) {
        link.dropDelegate(w.delegate());
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
}
