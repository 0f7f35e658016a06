package io.runbook.transport;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.net.URI;
import java.time.Duration;

/**
 * Builds docker-java clients. The only place that chooses docker-java's HTTP transport: zerodep
 * speaks HTTP over a unix socket or TCP, which covers the local daemon and a socket forwarded over
 * SSH.
 */
public final class DockerClients {

  /** The socket a Docker daemon listens on when nothing else is configured. */
  public static final String DEFAULT_SOCKET = "/var/run/docker.sock";

  private DockerClients() {}

  /**
   * A client for the controller's own daemon: {@code DOCKER_HOST} if set, else the default socket.
   */
  public static DockerClient local() {
    return forHost(localHost());
  }

  /**
   * Where the controller's own daemon listens: {@code DOCKER_HOST} if set, else the default socket.
   */
  public static URI localHost() {
    String env = System.getenv("DOCKER_HOST");
    return URI.create(env != null && !env.isBlank() ? env : "unix://" + DEFAULT_SOCKET);
  }

  /**
   * The socket file of the controller's own daemon on the daemon's machine: the path of a {@code
   * unix://} {@code DOCKER_HOST}, else the default socket.
   */
  public static String localSocketPath() {
    URI host = localHost();
    return "unix".equals(host.getScheme()) && host.getPath() != null && !host.getPath().isEmpty()
        ? host.getPath()
        : DEFAULT_SOCKET;
  }

  /** A client for the daemon at {@code unix:///path} or {@code tcp://host:port}. */
  public static DockerClient forHost(URI dockerHost) {
    DockerClientConfig config =
        DefaultDockerClientConfig.createDefaultConfigBuilder()
            .withDockerHost(dockerHost.toString())
            .withDockerTlsVerify(false)
            .build();
    DockerHttpClient http =
        new ZerodepDockerHttpClient.Builder()
            .dockerHost(config.getDockerHost())
            .connectionTimeout(Duration.ofSeconds(10))
            // Pulls and volume archives take as long as they take; steps bound them with their own
            // time-out.
            .responseTimeout(Duration.ofMinutes(30))
            .maxConnections(16)
            .build();
    return DockerClientImpl.getInstance(config, http);
  }
}
