package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.EventListener;
import io.runbook.event.RunFinished;
import io.runbook.event.RunResumed;
import io.runbook.event.RunStarted;
import io.runbook.model.Phase;
import io.runbook.model.Rollout;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.transport.Become;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Runs a {@link Plan} through the fleet: connect and lock every host, preflight on every host (one
 * failure stops the run with nothing changed), then batch after batch (hosts of a batch in parallel
 * up to {@code forks}, steps in order on each), each followed by the rollout's gate and failure
 * policy. Never more threads than {@code forks}.
 */
public final class Executor {
  private final Connector connector;
  private final EventListener events;
  private final int forks;
  private final RunControl control;
  private final Confirmer confirmer;

  /** Asks the operator whether to start the next batch. */
  @FunctionalInterface
  public interface Confirmer {
    boolean proceed(int batch, int batches, List<String> hosts);
  }

  public Executor(
      Connector connector,
      EventListener events,
      int forks,
      RunControl control,
      Confirmer confirmer) {
    if (forks < 1) throw new IllegalArgumentException("forks must be at least 1");
    this.connector = connector;
    this.events = events;
    this.forks = forks;
    this.control = control;
    this.confirmer = confirmer;
  }

  public RunResult run(Plan plan, RunStarted.Request request) {
    return execute(plan, request, null);
  }

  /**
   * Continues a run whose controller stopped: hosts that finished are not touched again; a host
   * whose step was in flight re-runs it if it is idempotent and is rolled back otherwise; the rest
   * of its batch and the later batches run as they would have.
   */
  public RunResult resume(Plan plan, RunState state) {
    return execute(plan, state.request(), state);
  }

  private RunResult execute(Plan plan, RunStarted.Request request, RunState state) {
    long started = System.nanoTime();
    Rollout rollout = plan.runbook().rollout();
    List<HostSession> sessions = sessions(plan, state);
    HostSession once = onceSession(plan, state, events, control);
    List<HostSession> all = withOnce(sessions, once);
    List<List<HostSession>> batches =
        state == null ? Batches.split(sessions, rollout.serial()) : batchesOf(sessions, state);
    if (state == null) {
      events.on(
          new RunStarted(
              Instant.now(),
              plan.runId(),
              plan.runbook().file(),
              plan.displayName(),
              plan.inventory(),
              plan.hosts().stream().map(HostPlan::name).toList(),
              forks,
              System.getProperty("user.name"),
              Hosts.controller(),
              batches.stream().map(b -> b.stream().map(HostSession::name).toList()).toList(),
              request));
    } else {
      events.on(
          new RunResumed(
              Instant.now(),
              plan.runId(),
              "resume",
              System.getProperty("user.name"),
              Hosts.controller(),
              sessions.stream().filter(s -> s.result() == null).map(HostSession::name).toList()));
    }
    ExecutorService pool = pool(Math.min(forks, Math.max(1, sessions.size())));
    ScheduledExecutorService keeper = keepLeases(all);
    String stopped = null;
    try {
      List<HostSession> pending = sessions.stream().filter(s -> s.result() == null).toList();
      all.forEach(s -> s.connectWith(connector));
      parallel(pool, pending, s -> s.open(connector));
      if (state != null) {
        // The hosts that had finished keep their results; their locks come back to this controller,
        // so
        // that they are released at the end (or kept for a fleet rollback).
        parallel(
            pool,
            sessions.stream().filter(s -> s.result() != null).toList(),
            s -> s.reclaim(connector));
      }
      // The run-once host is opened once the targets are: with the run's lock session, which a
      // target on
      // the same host holds already (taking it again renews it), and with the targets' orphan
      // checks done,
      // so that its own check meets only commands a dead controller left.
      if (once != null)
        once.exclusively(
            () -> {
              if (once.result() == null) once.open(connector);
              else once.reclaim(connector);
            });
      if (state != null) refresh(plan, state, all);
      parallel(
          pool, pending.stream().filter(s -> s.result() == null).toList(), HostSession::recover);
      if (once != null) once.exclusively(once::recover);
      List<String> failedPreflight =
          state != null && state.batchesStarted()
              ? List.of()
              : pending.stream().filter(s -> s.result() != null).map(HostSession::name).toList();
      if (!failedPreflight.isEmpty() || control.cancelled()) {
        stopped =
            control.cancelled()
                ? control.stopReason() + " during preflight"
                : "preflight failed on "
                    + String.join(", ", failedPreflight)
                    + "; nothing was changed";
        String why = stopped;
        parallel(pool, withOnce(pending, once), s -> s.undo(why, Outcome.NOT_RUN));
      } else if (once != null && (stopped = RunOncePhases.beforeAll(once)) != null) {
        String why = stopped;
        parallel(pool, pending, s -> s.undo("not run: " + why, Outcome.NOT_RUN));
      } else {
        stopped =
            batches(
                pool,
                batches,
                rollout,
                state == null ? Map.of() : state.finishedBatches(),
                state == null ? Set.of() : state.startedBatches());
        if (once != null) stopped = RunOncePhases.afterBatches(once, sessions, stopped);
      }
    } finally {
      keeper.shutdown(); // no interrupt: a renewal in progress finishes; close() waits for it
      parallel(pool, all, HostSession::close);
      pool.shutdownNow();
    }
    return finish(plan, all, started, stopped);
  }

  private static List<HostSession> withOnce(List<HostSession> sessions, HostSession once) {
    if (once == null) return sessions;
    List<HostSession> out = new ArrayList<>(sessions);
    out.add(once);
    return out;
  }

  /**
   * The session of the run-once phases ({@code once@db}), restored from the journal; null when
   * none.
   */
  private static HostSession onceSession(
      Plan plan, RunState state, EventListener events, RunControl control) {
    if (plan.once() == null) return null;
    HostSession s = new HostSession(plan.once(), plan.runbook(), events, control);
    RunState.HostState st = state == null ? null : state.hosts().get(plan.once().name());
    if (st != null) s.restore(st, new StepRunner(null, plan.runbook(), Become.NONE));
    return s;
  }

  /**
   * Hosts renew their lease between their own steps; hosts waiting for a later batch, or done with
   * theirs, run no steps for as long as the other batches take (steps, gates, soaks), so one thread
   * renews theirs: a live run's locks never lapse, and only a dead controller's do.
   */
  private ScheduledExecutorService keepLeases(List<HostSession> sessions) {
    ScheduledExecutorService keeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "lease-keeper");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(200, control.renewEvery().toMillis() / 2);
    Future<?> unused =
        keeper.scheduleWithFixedDelay(
            () ->
                sessions.forEach(
                    s -> {
                      try {
                        s.keepLease();
                      } catch (RuntimeException e) {
                        // one host's trouble must not end the renewals of the others (an exception
                        // would cancel the task)
                      }
                    }),
            every,
            every,
            TimeUnit.MILLISECONDS);
    return keeper;
  }

  /**
   * The hosts a {@link #rollback} of this run would touch: those with undo work left (a host is
   * undone at most once, ever), among {@code only} when it is not null.
   */
  public static List<String> undoable(Plan plan, RunState state, Set<String> only) {
    List<HostSession> targets = sessions(plan, state, EVENTS_NOWHERE, null);
    List<String> out =
        new ArrayList<>(
            targets.stream()
                .filter(HostSession::changedSomething)
                .map(HostSession::name)
                .filter(h -> only == null || only.contains(h))
                .toList());
    HostSession once = onceSession(plan, state, EVENTS_NOWHERE, null);
    if (RunOncePhases.undoneWith(once, targets, only)) out.add(once.name());
    return out;
  }

  private static final EventListener EVENTS_NOWHERE = e -> {};

  /**
   * Hosts of the run whose cleanup changed them past undoing (no handler, no automatic undo), with
   * those steps: rolling such a host back would leave it neither upgraded nor as it was.
   */
  public static Map<String, List<String>> pastCleanup(Plan plan, RunState state) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    // Not the run-once session: an after_all step without undo is left as it is (the targets'
    // releases are
    // what a rollback restores; see docs/run-once-phases.md).
    for (HostSession s : sessions(plan, state, EVENTS_NOWHERE, null)) {
      if (s.changedSomething() && !s.irreversible().isEmpty()) out.put(s.name(), s.irreversible());
    }
    return out;
  }

  /**
   * Undoes a past run on every host it changed that has undo work left, newest batch first (runbook
   * rollback RUN_ID); with {@code only}, on those hosts alone.
   */
  public RunResult rollback(Plan plan, RunState state, Set<String> only) {
    long started = System.nanoTime();
    List<HostSession> sessions = sessions(plan, state);
    List<List<HostSession>> batches = batchesOf(sessions, state);
    Predicate<HostSession> target =
        s -> s.changedSomething() && (only == null || only.contains(s.name()));
    List<HostSession> changed = sessions.stream().filter(target).toList();
    HostSession once = onceSession(plan, state, events, control);
    boolean onceToo = RunOncePhases.undoneWith(once, sessions, only);
    List<HostSession> touched = onceToo ? withOnce(changed, once) : changed;
    events.on(
        new RunResumed(
            Instant.now(),
            plan.runId(),
            "rollback",
            System.getProperty("user.name"),
            Hosts.controller(),
            touched.stream().map(HostSession::name).toList()));
    ExecutorService pool = pool(Math.min(forks, Math.max(1, sessions.size())));
    List<HostSession> all = withOnce(sessions, once);
    String kept = null;
    try {
      all.forEach(s -> s.connectWith(connector));
      // Lock every host to undo first, waiting out commands a dead (or still running) controller of
      // this
      // run left there; then undo what the journal says now, newest batch first.
      parallel(pool, changed, s -> s.reclaim(connector));
      if (onceToo) once.exclusively(() -> once.reclaim(connector));
      refresh(plan, state, all);
      for (int b = batches.size() - 1; b >= 0; b--) {
        List<HostSession> batch = batches.get(b).stream().filter(target).toList();
        parallel(
            pool,
            batch,
            s ->
                s.undo(
                    "rollback of run " + plan.runId() + " asked by the operator", Outcome.UNDONE));
      }
      // The run-once phases last: only once every target is back on the old release.
      if (onceToo)
        kept =
            RunOncePhases.undoAfterTargets(
                once, sessions, "rollback of run " + plan.runId() + " asked by the operator");
    } finally {
      parallel(pool, all, HostSession::close);
      pool.shutdownNow();
    }
    return finish(plan, touched, started, kept);
  }

  public RunResult rollback(Plan plan, RunState state) {
    return rollback(plan, state, null);
  }

  private List<HostSession> sessions(Plan plan, RunState state) {
    return sessions(plan, state, events, control);
  }

  /**
   * Once this controller holds the hosts' locks, the journal is read again and each locked host
   * restored from it: a controller of this run that was still alive (a resume of a live run) may
   * have gone on until it met the new lock. It stops at its next command; the journal line of the
   * command it was running is written just after that command ends, hence the short wait when one
   * was found.
   */
  private static void refresh(Plan plan, RunState state, List<HostSession> sessions) {
    if (sessions.stream().anyMatch(HostSession::hadOrphansOfThisRun)) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    RunState now = state.reread();
    StepRunner restorer = new StepRunner(null, plan.runbook(), Become.NONE);
    for (HostSession s : sessions) {
      RunState.HostState st = now.hosts().get(s.name());
      if (s.locked() && st != null) s.restore(st, restorer);
    }
  }

  private static List<HostSession> sessions(
      Plan plan, RunState state, EventListener events, RunControl control) {
    StepRunner restorer = new StepRunner(null, plan.runbook(), Become.NONE);
    List<HostSession> sessions = new ArrayList<>();
    for (HostPlan hp : plan.hosts()) {
      HostSession s = new HostSession(hp, plan.runbook(), events, control);
      RunState.HostState st = state == null ? null : state.hosts().get(hp.name());
      if (st != null) s.restore(st, restorer);
      sessions.add(s);
    }
    return sessions;
  }

  /** The batches a journal recorded, with hosts no longer in the plan left out. */
  private static List<List<HostSession>> batchesOf(List<HostSession> sessions, RunState state) {
    List<List<HostSession>> out = new ArrayList<>();
    for (List<String> names : state.batches()) {
      List<HostSession> batch = sessions.stream().filter(s -> names.contains(s.name())).toList();
      if (!batch.isEmpty()) out.add(batch);
    }
    return out;
  }

  private RunResult finish(Plan plan, List<HostSession> sessions, long started, String stopped) {
    List<HostResult> results =
        sessions.stream().map(HostSession::result).filter(Objects::nonNull).toList();
    RunResult result =
        new RunResult(
            plan.runId(),
            results,
            Duration.ofNanos(System.nanoTime() - started).toMillis(),
            stopped,
            control.byOperator());
    events.on(new RunFinished(Instant.now(), result));
    return result;
  }

  /**
   * Runs the batches; returns why the rollout stopped early, or null when every batch ran. A
   * resumed run passes over the batches whose end the journal recorded ({@code finished}: their
   * gates are not run again) and carries out a decision it recorded but did not finish (a fleet
   * rollback).
   *
   * <p>Under {@code rollback-fleet} no host runs its cleanup (which may remove what a rollback
   * needs, such as the previous release's image) until every batch has passed: until then the
   * policy may still roll it back.
   */
  private String batches(
      ExecutorService pool,
      List<List<HostSession>> batches,
      Rollout rollout,
      Map<Integer, String> finished,
      Set<Integer> started) {
    boolean deferCleanup = rollout.onFailure() == Rollout.Policy.ROLLBACK_FLEET;
    for (int i = 0; i < batches.size(); i++) {
      List<HostSession> batch = batches.get(i);
      List<String> names = batch.stream().map(HostSession::name).toList();
      String recorded = finished.get(i + 1);
      if (recorded != null) {
        String resumed = "resumed after batch " + (i + 1) + " had decided " + recorded;
        if (recorded.equals("rollback-fleet")) return fleetRollback(pool, batches, i, resumed);
        if (recorded.equals("stop")) return stop(pool, batches, i + 1, resumed);
        if (!deferCleanup) {
          // its hosts passed their gate; one whose cleanup the dead controller did not finish does
          // it now
          parallel(
              pool,
              batch,
              s -> {
                if (s.advance(p -> true)) s.succeed();
              });
        }
        continue;
      }
      if (i > 0 && rollout.confirm() && !confirmer.proceed(i + 1, batches.size(), names)) {
        return stop(pool, batches, i, "the operator declined batch " + (i + 1));
      }
      if (control.cancelled())
        return stop(pool, batches, i, control.stopReason() + " before batch " + (i + 1));
      if (!started.contains(i + 1))
        events.on(new BatchStarted(Instant.now(), i + 1, batches.size(), names));
      parallel(pool, batch, s -> s.advance(p -> p != Phase.CLEANUP));
      // The gate runs once the whole batch is up, then (unless deferred) each host's cleanup.
      parallel(
          pool,
          batch,
          s -> {
            if (s.gate() && !deferCleanup && s.advance(p -> true)) s.succeed();
          });
      List<String> failed =
          batch.stream()
              .filter(
                  s ->
                      s.result() != null
                          && s.result().outcome() != Outcome.SUCCEEDED
                          && s.result().outcome() != Outcome.CLEANUP_FAILED)
              .map(HostSession::name)
              .toList();
      String decision = decide(rollout, batch.size(), failed.size(), i == batches.size() - 1);
      String reason =
          failed.isEmpty()
              ? null
              : failed.size()
                  + " of "
                  + batch.size()
                  + " host(s) failed in batch "
                  + (i + 1)
                  + " (max_fail_percentage "
                  + rollout.maxFailPercentage()
                  + ", on_failure "
                  + rollout.onFailure().key()
                  + ")";
      events.on(new BatchFinished(Instant.now(), i + 1, names, failed, decision, reason));
      if (decision.equals("rollback-fleet")) return fleetRollback(pool, batches, i, reason);
      if (decision.equals("stop")) return stop(pool, batches, i + 1, reason);
      if (control.cancelled()) {
        if (rollout.onFailure() == Rollout.Policy.ROLLBACK_FLEET)
          return fleetRollback(pool, batches, i, control.stopReason());
        return stop(pool, batches, i + 1, control.stopReason() + " after batch " + (i + 1));
      }
    }
    if (deferCleanup) {
      // Every batch passed: the fleet is upgraded for good, and only now may cleanups remove the
      // old release.
      for (List<HostSession> batch : batches) {
        parallel(
            pool,
            batch,
            s -> {
              if (s.advance(p -> true)) s.succeed();
            });
      }
    }
    return null;
  }

  /**
   * Undoes every host of batches {@code last} back to the first, newest first; the rest never ran.
   */
  private String fleetRollback(
      ExecutorService pool, List<List<HostSession>> batches, int last, String reason) {
    for (int b = last; b >= 0; b--) {
      parallel(pool, batches.get(b), s -> s.undo("fleet rollback: " + reason, Outcome.UNDONE));
    }
    return stop(pool, batches, last + 1, reason + "; every host this run changed was rolled back");
  }

  /** continue, done, stop or rollback-fleet. */
  private static String decide(Rollout rollout, int size, int failed, boolean last) {
    boolean over = failed * 100 > rollout.maxFailPercentage() * size;
    if (failed > 0 && rollout.onFailure() == Rollout.Policy.HALT) return "stop";
    if (over)
      return rollout.onFailure() == Rollout.Policy.ROLLBACK_FLEET ? "rollback-fleet" : "stop";
    return last ? "done" : "continue";
  }

  /** Hosts of batches from {@code from} on never ran: undo what their preflight did. */
  private String stop(
      ExecutorService pool, List<List<HostSession>> batches, int from, String reason) {
    List<HostSession> rest = new ArrayList<>();
    for (int b = from; b < batches.size(); b++) rest.addAll(batches.get(b));
    parallel(pool, rest, s -> s.undo("not run: " + reason, Outcome.NOT_RUN));
    return reason;
  }

  private static ExecutorService pool(int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, "host-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  private static void parallel(
      ExecutorService pool, List<HostSession> sessions, Consumer<HostSession> work) {
    List<Callable<Void>> tasks = new ArrayList<>();
    for (HostSession s : sessions)
      tasks.add(
          () -> {
            s.exclusively(() -> work.accept(s));
            return null;
          });
    try {
      for (Future<Void> f : pool.invokeAll(tasks)) f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunbookException(ErrorCode.INTERRUPTED, "interrupted");
    } catch (ExecutionException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL, "a host run crashed: " + e.getCause(), e.getCause());
    }
  }
}
