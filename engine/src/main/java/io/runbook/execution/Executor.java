package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.EventListener;
import io.runbook.event.RunFinished;
import io.runbook.event.RunStarted;
import io.runbook.model.Phase;
import io.runbook.model.Rollout;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs a {@link Plan} through the fleet: connect and lock every host, preflight on every host (one failure
 * stops the run with nothing changed), then batch after batch (hosts of a batch in parallel up to
 * {@code forks}, steps in order on each), each followed by the rollout's gate and failure policy.
 * Never more threads than {@code forks}.
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

  public Executor(Connector connector, EventListener events, int forks, RunControl control, Confirmer confirmer) {
    if (forks < 1) throw new IllegalArgumentException("forks must be at least 1");
    this.connector = connector;
    this.events = events;
    this.forks = forks;
    this.control = control;
    this.confirmer = confirmer;
  }

  public RunResult run(Plan plan, RunStarted.Request request) {
    long started = System.nanoTime();
    Rollout rollout = plan.runbook().rollout();
    List<HostSession> sessions = new ArrayList<>();
    for (HostPlan hp : plan.hosts()) sessions.add(new HostSession(hp, plan.runbook(), events, control));
    List<List<HostSession>> batches = Batches.split(sessions, rollout.serial());
    events.on(new RunStarted(Instant.now(), plan.runId(), plan.runbook().file(), plan.runbook().name(),
        plan.inventory(), plan.hosts().stream().map(HostPlan::name).toList(), forks,
        System.getProperty("user.name"), Hosts.controller(),
        batches.stream().map(b -> b.stream().map(HostSession::name).toList()).toList(), request));
    ExecutorService pool = pool(Math.min(forks, Math.max(1, sessions.size())));
    String stopped = null;
    try {
      parallel(pool, sessions, s -> {
        if (s.open(connector)) s.advance(p -> p == Phase.PREFLIGHT);
      });
      List<String> failedPreflight = sessions.stream().filter(s -> s.result() != null).map(HostSession::name).toList();
      if (!failedPreflight.isEmpty() || control.cancelled()) {
        stopped = control.cancelled() ? "interrupted during preflight"
            : "preflight failed on " + String.join(", ", failedPreflight) + "; nothing was changed";
        String why = stopped;
        parallel(pool, sessions, s -> s.undo(why, Outcome.NOT_RUN));
      } else {
        stopped = batches(pool, batches, rollout);
      }
    } finally {
      parallel(pool, sessions, HostSession::close);
      pool.shutdownNow();
    }
    List<HostResult> results = sessions.stream().map(HostSession::result).toList();
    RunResult result = new RunResult(plan.runId(), results, Duration.ofNanos(System.nanoTime() - started).toMillis(),
        stopped, control.cancelled());
    events.on(new RunFinished(Instant.now(), result));
    return result;
  }

  /** Runs the batches; returns why the rollout stopped early, or null when every batch ran. */
  private String batches(ExecutorService pool, List<List<HostSession>> batches, Rollout rollout) {
    for (int i = 0; i < batches.size(); i++) {
      List<HostSession> batch = batches.get(i);
      List<String> names = batch.stream().map(HostSession::name).toList();
      if (i > 0 && rollout.confirm() && !confirmer.proceed(i + 1, batches.size(), names)) {
        return stop(pool, batches, i, "the operator declined batch " + (i + 1));
      }
      if (control.cancelled()) return stop(pool, batches, i, "interrupted before batch " + (i + 1));
      events.on(new BatchStarted(Instant.now(), i + 1, batches.size(), names));
      parallel(pool, batch, s -> s.advance(p -> p != Phase.CLEANUP));
      // The gate runs once the whole batch is up, then each host's cleanup.
      parallel(pool, batch, s -> {
        if (s.gate() && s.advance(p -> true)) s.succeed();
      });
      List<String> failed = batch.stream()
          .filter(s -> s.result().outcome() != Outcome.SUCCEEDED && s.result().outcome() != Outcome.CLEANUP_FAILED)
          .map(HostSession::name).toList();
      String decision = decide(rollout, batch.size(), failed.size(), i == batches.size() - 1);
      String reason = failed.isEmpty() ? null : failed.size() + " of " + batch.size() + " host(s) failed in batch "
          + (i + 1) + " (max_fail_percentage " + rollout.maxFailPercentage() + ", on_failure " + rollout.onFailure().key() + ")";
      events.on(new BatchFinished(Instant.now(), i + 1, names, failed, decision, reason));
      if (decision.equals("rollback-fleet")) {
        for (int b = i; b >= 0; b--) {
          parallel(pool, batches.get(b), s -> s.undo("fleet rollback: " + reason, Outcome.UNDONE));
        }
        return stop(pool, batches, i + 1, reason + "; every host this run changed was rolled back");
      }
      if (decision.equals("stop")) return stop(pool, batches, i + 1, reason);
      if (control.cancelled()) {
        if (rollout.onFailure() == Rollout.Policy.ROLLBACK_FLEET) {
          for (int b = i; b >= 0; b--) parallel(pool, batches.get(b), s -> s.undo("interrupted: fleet rollback", Outcome.UNDONE));
        }
        return stop(pool, batches, i + 1, "interrupted by the operator after batch " + (i + 1));
      }
    }
    return null;
  }

  /** continue, done, stop or rollback-fleet. */
  private static String decide(Rollout rollout, int size, int failed, boolean last) {
    boolean over = failed * 100 > rollout.maxFailPercentage() * size;
    if (failed > 0 && rollout.onFailure() == Rollout.Policy.HALT) return "stop";
    if (over) return rollout.onFailure() == Rollout.Policy.ROLLBACK_FLEET ? "rollback-fleet" : "stop";
    return last ? "done" : "continue";
  }

  /** Hosts of batches from {@code from} on never ran: undo what their preflight did. */
  private String stop(ExecutorService pool, List<List<HostSession>> batches, int from, String reason) {
    List<HostSession> rest = new ArrayList<>();
    for (int b = from; b < batches.size(); b++) rest.addAll(batches.get(b));
    parallel(pool, rest, s -> s.undo("not run: " + reason, Outcome.NOT_RUN));
    return reason;
  }

  private static ExecutorService pool(int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "host-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private static void parallel(ExecutorService pool, List<HostSession> sessions, Consumer<HostSession> work) {
    List<Callable<Void>> tasks = new ArrayList<>();
    for (HostSession s : sessions) tasks.add(() -> {
      work.accept(s);
      return null;
    });
    try {
      for (Future<Void> f : pool.invokeAll(tasks)) f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunbookException(ErrorCode.INTERRUPTED, "interrupted");
    } catch (ExecutionException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "a host run crashed: " + e.getCause(), e.getCause());
    }
  }

}
