package io.runbook.rehearsal;

import io.runbook.execution.Connector;
import io.runbook.inventory.Host;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When each command of a rehearsal's run started, per host: a rehearsal host pays the Docker
 * daemon's cost of starting a process for every command (tens of ms), production an SSH channel's
 * (a few ms), so the downtime forecast for production takes off that difference for each command
 * run inside the outage.
 */
final class CommandClock implements Connector {
  private final Connector inner;
  private final Map<String, List<Instant>> starts = new HashMap<>();
  private final Map<String, List<Long>> durations = new HashMap<>();

  CommandClock(Connector inner) {
    this.inner = inner;
  }

  @Override
  public Transport open(Host host) {
    Transport t = inner.open(host);
    return new Transport() {
      @Override
      public ExecResult exec(ExecRequest request) {
        long t0 = System.nanoTime();
        synchronized (starts) {
          starts.computeIfAbsent(host.name(), h -> new ArrayList<>()).add(Instant.now());
        }
        try {
          return t.exec(request);
        } finally {
          long ms = (System.nanoTime() - t0) / 1_000_000;
          synchronized (starts) {
            durations.computeIfAbsent(host.name(), h -> new ArrayList<>()).add(ms);
          }
        }
      }

      @Override
      public URI dockerHost(String socketPath) {
        return t.dockerHost(socketPath);
      }

      @Override
      public String describe() {
        return t.describe();
      }

      @Override
      public void close() {
        t.close();
      }
    };
  }

  /**
   * What a command cost on {@code host} during the run itself: the 10th percentile of its commands'
   * times (the quickest ones do next to nothing but pay for starting a process), or -1 without ten
   * of them. Measured while the run runs, it sees the daemon as loaded as the steps saw it, which
   * the five {@code true}s before the upgrade may not.
   */
  long quickCommandMs(String host) {
    List<Long> d;
    synchronized (starts) {
      d = new ArrayList<>(durations.getOrDefault(host, List.of()));
    }
    if (d.size() < 10) return -1;
    d.sort(null);
    return d.get(d.size() / 10);
  }

  /** How many commands started on {@code host} from {@code from} up to {@code to}. */
  int between(String host, Instant from, Instant to) {
    synchronized (starts) {
      return (int)
          starts.getOrDefault(host, List.of()).stream()
              .filter(s -> !s.isBefore(from) && !s.isAfter(to))
              .count();
    }
  }
}
