package io.runbook.rehearsal;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Polls a service's health URL <em>on the host</em>, as a client there would: a loop started on the
 * host runs {@code curl -sf URL} every {@value #INTERVAL_MS} ms and writes each answer with the
 * host's clock (milliseconds before and after the request) to a file; {@link #close()} stops the
 * loop and reads the file back. Polling from the host keeps the samples free of the cost of
 * reaching it (a Docker exec is tens of milliseconds, an SSH channel a few), so a copy's figure and
 * production's are measured alike, about {@value #INTERVAL_MS} ms apart plus one {@code curl}. The
 * host's times are turned into the controller's with the offset measured at the start (a {@code
 * date} between two controller readings), so that the samples can be set against the journal's step
 * times.
 *
 * <p>The loop ends by itself after {@value #MAX_SECONDS} s, so a controller that dies leaves
 * nothing running for long. A host without GNU {@code date +%s%3N} gets the older way: one {@code
 * curl} per command from the controller, every {@value #INTERVAL_MS} ms plus the command's cost.
 */
final class HealthProbe implements AutoCloseable {
  static final long INTERVAL_MS = 50;
  static final long MAX_SECONDS = 3600;

  private final Transport transport;
  private final String url;
  private final String host;
  private final List<Downtime.Sample> samples = new ArrayList<>();
  private Thread fallback;
  private volatile boolean running;
  private String dir;

  /** Host clock minus controller clock, in milliseconds. */
  private long offsetMs;

  HealthProbe(Transport transport, String url, String host) {
    this.transport = transport;
    this.url = url;
    this.host = host;
  }

  /** One probe now, from a command. */
  boolean healthy() {
    try {
      return transport
              .exec(
                  ExecRequest.builder("curl -sf -o /dev/null -m 2 " + Shell.quote(url))
                      .timeout(Duration.ofSeconds(5))
                      .build())
              .exitCode()
          == 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Waits until the service answers, up to {@code limit}. */
  boolean awaitHealthy(Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (healthy()) return true;
      Thread.sleep(200);
    }
    return false;
  }

  void start() {
    running = true;
    try {
      Instant before = Instant.now();
      ExecResult clock =
          transport.exec(
              ExecRequest.builder("date +%s%3N").timeout(Duration.ofSeconds(10)).build());
      Instant after = Instant.now();
      String hostMs = clock.stdoutText().strip();
      if (clock.exitCode() == 0 && hostMs.matches("[0-9]{12,}")) {
        long mid = before.toEpochMilli() + Duration.between(before, after).toMillis() / 2;
        offsetMs = Long.parseLong(hostMs) - mid;
        ExecResult r =
            transport.exec(ExecRequest.builder(loop()).timeout(Duration.ofSeconds(10)).build());
        String d = r.stdoutText().strip();
        if (r.exitCode() == 0 && d.startsWith("/")) {
          dir = d;
          return;
        }
      }
    } catch (RuntimeException e) {
      // the older way below
    }
    fallback = new Thread(this::pollFromController, "health-probe-" + host);
    fallback.setDaemon(true);
    fallback.start();
  }

  /** The loop on the host, detached from the command that starts it; prints its directory. */
  private String loop() {
    String body =
        "end=$(( $(date +%s) + "
            + MAX_SECONDS
            + " )); "
            + "while [ ! -e \"$d/stop\" ] && [ \"$(date +%s)\" -lt \"$end\" ]; do "
            + "a=$(date +%s%3N); if curl -sf -o /dev/null -m 2 "
            + Shell.quote(url)
            + "; then o=1; else o=0; fi; "
            + "echo \"$a $(date +%s%3N) $o\" >> \"$d/samples\"; sleep "
            + (INTERVAL_MS / 1000.0)
            + "; done; "
            + "touch \"$d/done\"";
    return "d=$(mktemp -d /tmp/runbook-probe.XXXXXX) || exit 1; export d; "
        + "nohup sh -c "
        + Shell.quote(body)
        + " </dev/null >/dev/null 2>&1 & "
        + "echo \"$d\"";
  }

  private void pollFromController() {
    while (running) {
      Instant before = Instant.now();
      boolean ok = healthy();
      Instant after = Instant.now();
      if (!running) return; // a request cut short by close() says nothing about the service
      synchronized (samples) {
        samples.add(
            new Downtime.Sample(before.plus(Duration.between(before, after).dividedBy(2)), ok));
      }
      try {
        Thread.sleep(200);
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

  /**
   * Stops the loop, reads its samples (each dated at the middle of its request, on the controller's
   * clock).
   */
  private void collect() {
    String q = Shell.quote(dir);
    ExecResult r =
        transport.exec(
            ExecRequest.builder(
                    "touch "
                        + q
                        + "/stop; i=0; "
                        + "while [ ! -e "
                        + q
                        + "/done ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; "
                        + "cat "
                        + q
                        + "/samples 2>/dev/null; rm -rf "
                        + q)
                .timeout(Duration.ofSeconds(30))
                .build());
    synchronized (samples) {
      samples.addAll(parse(r.stdoutText(), offsetMs));
    }
  }

  /**
   * Lines {@code before_ms after_ms 0|1} of the host's clock → samples on the controller's clock.
   */
  static List<Downtime.Sample> parse(String text, long offsetMs) {
    List<Downtime.Sample> out = new ArrayList<>();
    for (String line : text.lines().toList()) {
      String[] f = line.strip().split(" ", -1);
      if (f.length != 3 || !f[0].matches("[0-9]+") || !f[1].matches("[0-9]+"))
        continue; // a line cut by the stop
      long mid = (Long.parseLong(f[0]) + Long.parseLong(f[1])) / 2 - offsetMs;
      out.add(new Downtime.Sample(Instant.ofEpochMilli(mid), f[2].equals("1")));
    }
    return out;
  }

  @Override
  public void close() {
    if (!running) {
      transport.close();
      return;
    }
    running = false;
    try {
      if (dir != null) {
        collect();
      } else if (fallback != null) {
        fallback.interrupt();
        fallback.join(10_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // no samples: the figure is missing, not wrong
    } finally {
      transport.close();
    }
  }
}
