package io.runbook.execution;

import io.runbook.docker.DockerEngine;
import io.runbook.docker.DockerJavaEngine;
import io.runbook.transport.DockerClients;
import io.runbook.transport.Transport;
import java.util.Map;

/**
 * A host's Docker daemon, opened on the first step that needs it (over the host's transport: the
 * socket forwarded through SSH, or the local socket) and closed with the host's session. The socket
 * is the host variable {@code docker_socket}, default {@value DockerClients#DEFAULT_SOCKET}.
 */
final class HostDocker implements AutoCloseable {
  private final Transport transport;
  private DockerEngine engine;

  HostDocker(Transport transport) {
    this.transport = transport;
  }

  synchronized DockerEngine get(String host, Map<String, Object> vars) {
    if (engine == null) {
      Object socket = vars.get("docker_socket");
      String path = socket instanceof String s && !s.isBlank() ? s : DockerClients.DEFAULT_SOCKET;
      engine = DockerJavaEngine.open(transport, path, host);
    }
    return engine;
  }

  @Override
  public synchronized void close() {
    if (engine != null) engine.close();
    engine = null;
  }
}
