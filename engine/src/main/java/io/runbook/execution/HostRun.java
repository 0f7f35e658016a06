package io.runbook.execution;

import io.runbook.event.EventListener;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackStarted;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.model.Phase;
import io.runbook.model.Runbook;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.step.Status;
import io.runbook.step.StepResult;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Runs one host's plan: forward steps in order; on the first failure (outside cleanup), the host's
 * rollback stack last-first, then the runbook's rollback phase. A rollback handler that fails stops the
 * rollback and marks the host as needing a person, listing what was not undone.
 */
final class HostRun implements Callable<HostResult> {
  private final HostPlan plan;
  private final Runbook runbook;
  private final Connector connector;
  private final EventListener events;
  private final Map<String, Object> vars;
  private final RollbackStack stack = new RollbackStack();
  private int ok, changed, failed, skipped, rolledBack;
  private String rollbackError;

  HostRun(HostPlan plan, Runbook runbook, Connector connector, EventListener events) {
    this.plan = plan;
    this.runbook = runbook;
    this.connector = connector;
    this.events = events;
    this.vars = new LinkedHashMap<>(plan.vars());
  }

  @Override
  public HostResult call() {
    long started = System.nanoTime();
    events.on(new HostStarted(Instant.now(), plan.name(), plan.mode(), plan.host().address()));
    HostResult result;
    Transport transport;
    try {
      transport = connector.open(plan.host());
    } catch (TransportException e) {
      result = result(Outcome.UNREACHABLE, null, e.getMessage(), started);
      events.on(new HostFinished(Instant.now(), result));
      return result;
    }
    try (transport) {
      result = run(transport, started);
    }
    events.on(new HostFinished(Instant.now(), result));
    return result;
  }

  private HostResult run(Transport transport, long started) {
    Become become = runbook.become() || plan.host().become() ? Become.as(plan.host().becomeUser()) : Become.NONE;
    StepRunner runner = new StepRunner(transport, runbook.baseDir(), runbook.timeout(), become);
    for (PlannedStep step : plan.steps()) {
      StepRunner.Outcome o = execute(runner, step, false, null, vars);
      StepResult r = o.result();
      if (o.lost()) return rollback(runner, step, r.message(), started);
      if (!r.failed() || step.spec().ignoreErrors()) {
        if (r.status() != Status.SKIPPED) {
          stack.push(new RollbackStack.Entry(step, step.handlers(), o.undo().orElse(null), java.util.Collections.unmodifiableMap(new LinkedHashMap<>(vars))));
        }
        continue;
      }
      if (step.phase() == Phase.CLEANUP) {
        return result(Outcome.CLEANUP_FAILED, step.name(), r.message(), started);
      }
      return rollback(runner, step, r.message(), started);
    }
    return result(Outcome.SUCCEEDED, null, null, started);
  }

  private HostResult rollback(StepRunner runner, PlannedStep failedStep, String reason, long started) {
    if (stack.isEmpty() && plan.rollbackPhase().isEmpty()) {
      return result(Outcome.FAILED, failedStep.name(), reason, started);
    }
    List<String> todo = new ArrayList<>(stack.describe());
    plan.rollbackPhase().forEach(s -> todo.add("rollback phase: " + s.name()));
    events.on(new RollbackStarted(Instant.now(), plan.name(), failedStep.name(), reason, todo));
    while (!stack.isEmpty()) {
      RollbackStack.Entry e = stack.pop();
      String err = e.undo() != null ? undo(runner, e) : null;
      for (int i = 0; err == null && i < e.handlers().size(); i++) {
        err = handler(runner, e.handlers().get(i), e.forStep().name(), e.vars());
      }
      if (err != null) return rollbackFailed(failedStep, reason, err, notUndone(0), started);
    }
    List<PlannedStep> phase = plan.rollbackPhase();
    for (int i = 0; i < phase.size(); i++) {
      String err = handler(runner, phase.get(i), null, vars);
      if (err != null) return rollbackFailed(failedStep, reason, err, notUndone(i + 1), started);
    }
    events.on(new RollbackFinished(Instant.now(), plan.name(), true, null, List.of()));
    return result(Outcome.ROLLED_BACK, failedStep.name(), reason, started);
  }

  /** What a failed rollback leaves undone: the rest of the stack, then the rollback phase from {@code from}. */
  private List<String> notUndone(int from) {
    List<String> left = new ArrayList<>(stack.describe());
    List<PlannedStep> phase = plan.rollbackPhase();
    for (int i = from; i < phase.size(); i++) left.add("rollback phase: " + phase.get(i).name());
    return left;
  }

  private HostResult rollbackFailed(PlannedStep failedStep, String reason, String err, List<String> left,
      long started) {
    events.on(new RollbackFinished(Instant.now(), plan.name(), false, err, List.copyOf(left)));
    rollbackError = err;
    return result(Outcome.ROLLBACK_FAILED, failedStep.name(), reason, started);
  }

  /** Runs one handler; returns null on success, else why it failed. */
  private String handler(StepRunner runner, PlannedStep h, String forStep, Map<String, Object> scope) {
    StepRunner.Outcome o = execute(runner, h, true, forStep, new LinkedHashMap<>(scope));
    StepResult r = o.result();
    if (o.lost() || (r.failed() && !h.spec().ignoreErrors())) return "'" + h.name() + "': " + r.message();
    rolledBack++;
    return null;
  }

  private String undo(StepRunner runner, RollbackStack.Entry e) {
    PlannedStep s = e.forStep();
    Instant at = Instant.now();
    events.on(new StepStarted(at, plan.name(), s.phase().key(), 0, e.undo().description(), s.type(), true, s.name()));
    StepResult r;
    long t0 = System.nanoTime();
    try {
      r = runner.undo(plan.name(), e.undo());
    } catch (TransportException ex) {
      r = StepResult.failed(ex.getMessage());
    }
    r = r.withTiming(Duration.ofNanos(System.nanoTime() - t0), 1);
    events.on(new StepFinished(Instant.now(), plan.name(), s.phase().key(), 0, e.undo().description(), s.type(),
        true, s.name(), null, r));
    if (r.failed()) return "'" + e.undo().description() + "': " + r.message();
    rolledBack++;
    return null;
  }

  private StepRunner.Outcome execute(StepRunner runner, PlannedStep step, boolean rollback, String forStep,
      Map<String, Object> scope) {
    events.on(new StepStarted(Instant.now(), plan.name(), step.phase().key(), step.index(), step.name(),
        step.type(), rollback, forStep));
    StepRunner.Outcome o = runner.run(plan.name(), step.spec(), step.step(), scope);
    finish(step, rollback, forStep, o.result());
    return o;
  }

  private void finish(PlannedStep step, boolean rollback, String forStep, StepResult r) {
    if (!rollback) {
      switch (r.status()) {
        case OK -> ok++;
        case CHANGED -> changed++;
        case FAILED -> failed++;
        case SKIPPED -> skipped++;
      }
    }
    events.on(new StepFinished(Instant.now(), plan.name(), step.phase().key(), step.index(), step.name(),
        step.type(), rollback, forStep, step.spec().register(), r));
  }

  private HostResult result(Outcome outcome, String failedStep, String message, long started) {
    return new HostResult(plan.name(), plan.mode(), outcome, ok, changed, failed, skipped, rolledBack,
        failedStep, message, rollbackError, Duration.ofNanos(System.nanoTime() - started).toMillis());
  }
}
