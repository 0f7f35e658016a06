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

  CommandClock(Connector inner) {
    this.inner = inner;
  }

  @Override
  public Transport open(Host host) {
    Transport t = inner.open(host);
    return new Transport() {
      @Override
      public ExecResult exec(ExecRequest request) {
        synchronized (starts) {
          starts.computeIfAbsent(host.name(), h -> new ArrayList<>()).add(Instant.now());
        }
        return t.exec(request);
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
