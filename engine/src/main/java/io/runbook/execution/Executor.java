package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.EventListener;
import io.runbook.event.RunFinished;
import io.runbook.event.RunStarted;
import io.runbook.result.HostResult;
import io.runbook.result.RunResult;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a {@link Plan}: hosts in parallel up to {@code forks} (one thread per running host, never more),
 * steps in order on each host. Emits {@link RunStarted} … {@link RunFinished}.
 */
public final class Executor {
  private final Connector connector;
  private final EventListener events;
  private final int forks;

  public Executor(Connector connector, EventListener events, int forks) {
    if (forks < 1) throw new IllegalArgumentException("forks must be at least 1");
    this.connector = connector;
    this.events = events;
    this.forks = forks;
  }

  public RunResult run(Plan plan) {
    long started = System.nanoTime();
    events.on(new RunStarted(Instant.now(), plan.runId(), plan.runbook().file(), plan.runbook().name(),
        plan.inventory(), plan.hosts().stream().map(HostPlan::name).toList(), forks,
        System.getProperty("user.name"), controller()));
    int threads = Math.max(1, Math.min(forks, plan.hosts().size()));
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "host-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    List<HostResult> results = new ArrayList<>();
    try {
      List<Future<HostResult>> futures = new ArrayList<>();
      for (HostPlan hp : plan.hosts()) {
        futures.add(pool.submit(new HostRun(hp, plan.runbook(), connector, events)));
      }
      for (Future<HostResult> f : futures) {
        results.add(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunbookException(ErrorCode.INTERRUPTED, "interrupted");
    } catch (ExecutionException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "a host run crashed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    RunResult result = new RunResult(plan.runId(), List.copyOf(results),
        Duration.ofNanos(System.nanoTime() - started).toMillis());
    events.on(new RunFinished(Instant.now(), result));
    return result;
  }

  private static String controller() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }
}
