package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.Host;
import io.runbook.transport.DockerTransport;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.SshConnectionLimit;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens SSH connections, runs on the controller for {@code ansible_connection: local}, or in a
 * container through the Docker Engine API for {@code ansible_connection: docker}.
 */
public final class StandardConnector implements Connector {
  private final SshConnectionLimit limit;
  private final SshRoutes routes;
  private final Map<String, SshSettings> resolved = new ConcurrentHashMap<>();
  // How many ssh -G run at once: the run's --forks, so that threads follow --forks, never the
  // fleet's size.
  private int parallel = 16;

  /** SSH connections stay open until the run closes them. */
  public StandardConnector(ConnectionSettings settings) {
    this(settings, SshConnectionLimit.NONE);
  }

  /**
   * At most {@code limit} SSH connections open at once (idle ones close and reopen when needed).
   */
  public StandardConnector(ConnectionSettings settings, SshConnectionLimit limit) {
    this.limit = limit;
    this.routes = new SshRoutes(settings);
  }

  /**
   * Resolves how every SSH host of {@code hosts} is reached (ssh_config, jump hosts, keys), before
   * any connection: a host that cannot be reached as configured is an input error, reported with
   * all others.
   *
   * @throws RunbookException ({@link ErrorCode#INVALID_INPUT}) listing every such host
   */
  public void prepare(Collection<Host> hosts) {
    List<Host> ssh = hosts.stream().filter(h -> h.connection().equals("ssh")).toList();
    // One ssh -G per host and jump host, each a process that mostly waits: several at once.
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.max(1, Math.min(parallel, ssh.size())),
            r -> {
              Thread t = new Thread(r, "ssh-config-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    List<String> problems = new ArrayList<>();
    try {
      List<Future<String>> results = new ArrayList<>();
      for (Host h : ssh) {
        results.add(
            pool.submit(
                () -> {
                  try {
                    resolved.put(h.name(), routes.resolve(h));
                    return null;
                  } catch (RunbookException e) {
                    return e.getMessage();
                  }
                }));
      }
      for (Future<String> f : results) {
        String problem = f.get();
        if (problem != null) problems.add(problem);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunbookException(ErrorCode.INTERRUPTED, "interrupted while resolving SSH settings");
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    if (!problems.isEmpty())
      throw new RunbookException(ErrorCode.INVALID_INPUT, String.join("\n", problems));
  }

  private SshSettings sshOrUnreachable(Host host) {
    try {
      return ssh(host);
    } catch (RunbookException e) {
      throw new TransportException(host.name(), e.getMessage());
    }
  }

  /** How an SSH host is reached, resolved once. */
  public SshSettings ssh(Host host) {
    return resolved.computeIfAbsent(host.name(), n -> routes.resolve(host));
  }

  /**
   * For a run with {@code forks} workers: one connection per worker and one for the lease keeper,
   * so the controller's threads grow with {@code forks}, not with the fleet.
   */
  public static StandardConnector forForks(ConnectionSettings settings, int forks) {
    StandardConnector c = new StandardConnector(settings, SshConnectionLimit.of(forks + 1));
    c.parallel = Math.max(1, forks);
    return c;
  }

  @Override
  public Transport open(Host host) {
    return switch (host.connection()) {
      case "local" -> new LocalTransport(host.name());
      // Ansible's docker connection: ansible_host is the container, ansible_user the user inside
      // it.
      case "docker" -> DockerTransport.connect(host.name(), host.address(), host.user());
      case "ssh" -> SshTransport.connect(sshOrUnreachable(host), limit);
      default ->
          throw new TransportException(
              host.name(),
              "connection type '"
                  + host.connection()
                  + "' is not supported yet: use ssh, local or docker");
    };
  }
}
