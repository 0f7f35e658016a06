package io.runbook.rehearsal;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Polls a service's health on a rehearsal host ({@code curl -sf URL} run there, as the {@code http} step
 * does by default) on its own connection, every {@value #INTERVAL_MS} ms, until stopped. Each sample is
 * dated at the middle of its request.
 */
final class HealthProbe implements AutoCloseable {
  static final long INTERVAL_MS = 200;

  private final Transport transport;
  private final String url;
  private final List<Downtime.Sample> samples = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  HealthProbe(Transport transport, String url, String host) {
    this.transport = transport;
    this.url = url;
    this.thread = new Thread(this::loop, "health-probe-" + host);
    thread.setDaemon(true);
  }

  /** One probe now. */
  boolean healthy() {
    try {
      return transport.exec(ExecRequest.builder("curl -sf -o /dev/null -m 2 " + Shell.quote(url))
          .timeout(Duration.ofSeconds(5)).build()).exitCode() == 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Waits until the service answers, up to {@code limit}. */
  boolean awaitHealthy(Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (healthy()) return true;
      Thread.sleep(INTERVAL_MS);
    }
    return false;
  }

  void start() {
    thread.start();
  }

  private void loop() {
    while (running) {
      Instant before = Instant.now();
      boolean ok = healthy();
      Instant after = Instant.now();
      if (!running) return; // a request cut short by close() says nothing about the service
      synchronized (samples) {
        samples.add(new Downtime.Sample(before.plus(Duration.between(before, after).dividedBy(2)), ok));
      }
      try {
        Thread.sleep(INTERVAL_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  List<Downtime.Sample> samples() {
    synchronized (samples) {
      return List.copyOf(samples);
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    transport.close();
  }
}
