package io.runbook.execution;

import io.runbook.inventory.Host;
import io.runbook.transport.DockerTransport;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.SshConnectionLimit;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;

/**
 * Opens SSH connections, runs on the controller for {@code ansible_connection: local}, or in a container
 * through the Docker Engine API for {@code ansible_connection: docker}.
 */
public final class StandardConnector implements Connector {
  private final ConnectionSettings settings;
  private final SshConnectionLimit limit;

  /** SSH connections stay open until the run closes them. */
  public StandardConnector(ConnectionSettings settings) {
    this(settings, SshConnectionLimit.NONE);
  }

  /** At most {@code limit} SSH connections open at once (idle ones close and reopen when needed). */
  public StandardConnector(ConnectionSettings settings, SshConnectionLimit limit) {
    this.settings = settings;
    this.limit = limit;
  }

  /**
   * For a run with {@code forks} workers: one connection per worker and one for the lease keeper, so the
   * controller's threads grow with {@code forks}, not with the fleet.
   */
  public static StandardConnector forForks(ConnectionSettings settings, int forks) {
    return new StandardConnector(settings, SshConnectionLimit.of(forks + 1));
  }

  @Override
  public Transport open(Host host) {
    return switch (host.connection()) {
      case "local" -> new LocalTransport(host.name());
      // Ansible's docker connection: ansible_host is the container, ansible_user the user inside it.
      case "docker" -> DockerTransport.connect(host.name(), host.address(), host.user());
      case "ssh" -> SshTransport.connect(new SshSettings(host.name(), host.address(), host.port(), host.user(),
          host.privateKey().orElse(null), settings.knownHosts(),
          settings.acceptNewHostKeys() ? HostKeyPolicy.ACCEPT_NEW : HostKeyPolicy.STRICT,
          settings.connectTimeout()), limit);
      default -> throw new TransportException(host.name(), "connection type '" + host.connection()
          + "' is not supported yet: use ssh, local or docker");
    };
  }
}
