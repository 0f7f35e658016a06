package io.runbook.execution;

import io.runbook.inventory.Host;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hosts on this machine whose step commands are scripted: a command that holds {@code mark:NAME} is
 * not run but recorded (host and mark, in the order the engine sent them) and answered with exit 0,
 * or exit 1 where the script says that mark fails on that host. Everything else the engine sends
 * (locks, orphan checks) runs for real through {@link LocalTransport}, so the engine's own
 * bookkeeping is the real one.
 */
final class ScriptedHosts implements Connector {
  private static final Pattern MARK = Pattern.compile("mark:([\\w-]+)");

  private final Map<String, Set<String>> failing = new ConcurrentHashMap<>();
  private final Set<String> unreachable = ConcurrentHashMap.newKeySet();
  private final List<String> sequence = Collections.synchronizedList(new ArrayList<>());

  /** {@code mark} exits 1 on {@code host}. */
  ScriptedHosts fail(String host, String mark) {
    failing.computeIfAbsent(host, h -> ConcurrentHashMap.newKeySet()).add(mark);
    return this;
  }

  /** Connecting to {@code host} fails as a lost network would. */
  ScriptedHosts unreachable(String host) {
    unreachable.add(host);
    return this;
  }

  /** Every mark sent, as {@code host:mark}, in the order the engine sent them across hosts. */
  List<String> sequence() {
    synchronized (sequence) {
      return List.copyOf(sequence);
    }
  }

  /** The marks sent to {@code host}, in order. */
  List<String> on(String host) {
    return sequence().stream()
        .filter(s -> s.startsWith(host + ":"))
        .map(s -> s.substring(host.length() + 1))
        .toList();
  }

  @Override
  public Transport open(Host host) {
    if (unreachable.contains(host.name()))
      throw new TransportException(host.name(), "scripted: no route to host");
    return new Scripted(host.name(), new LocalTransport(host.name()));
  }

  private final class Scripted implements Transport {
    private final String host;
    private final Transport real;

    Scripted(String host, Transport real) {
      this.host = host;
      this.real = real;
    }

    @Override
    public ExecResult exec(ExecRequest request) {
      Matcher m = MARK.matcher(request.command());
      if (!m.find()) return real.exec(request);
      String mark = m.group(1);
      sequence.add(host + ":" + mark);
      boolean fails = failing.getOrDefault(host, Set.of()).contains(mark);
      byte[] err = (fails ? "scripted failure of " + mark : "").getBytes(StandardCharsets.UTF_8);
      return new ExecResult(
          fails ? 1 : 0, new byte[0], err, 0, err.length, Duration.ofMillis(1), false);
    }

    @Override
    public String describe() {
      return host + " (scripted)";
    }

    @Override
    public void close() {
      real.close();
    }
  }
}
