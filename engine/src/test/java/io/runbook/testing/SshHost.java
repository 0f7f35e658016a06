package io.runbook.testing;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * One real OpenSSH host: a container of the image {@code scripts/build-test-image.sh} builds
 * (Debian, sshd, sudo, python3, sqlite3, curl), with user {@value #USER} (passwordless sudo)
 * logging in by the test key. Each container makes its own host keys when it starts. {@link #exec}
 * runs commands through Docker, beside SSH, to set up and check hosts.
 *
 * <p>Never skipped: without Docker or the image, starting a host fails and says how to fix it.
 */
public final class SshHost implements AutoCloseable {
  public static final String IMAGE = "runbook-test/sshd:current";

  /**
   * The same host plus Debian's haproxy, socat and PostgreSQL 15 (scripts/build-service-image.sh);
   * none started.
   */
  public static final String SERVICE_IMAGE = "runbook-test/service:current";

  public static final String USER = "runbook";
  public static final String ADDRESS = "127.0.0.1";
  private static final String FIX =
      "Run scripts/test-env.sh (as root) to install Docker, start it and build"
          + " the test image.";

  private final String name;
  private final String image;
  private final TestKeys keys;
  private final GenericContainer<?> container;

  private SshHost(String name, TestKeys keys) {
    this(name, keys, true);
  }

  private SshHost(String name, TestKeys keys, boolean published) {
    this(name, keys, published, IMAGE);
  }

  private SshHost(String name, TestKeys keys, boolean published, String image) {
    this.name = name;
    this.image = image;
    this.keys = keys;
    this.container =
        new GenericContainer<>(DockerImageName.parse(image))
            // Built here by a script, so there is nothing to pull; a pull would only hide a missing
            // build.
            .withImagePullPolicy(anyImage -> false)
            // The port is published before sshd listens; its own log line says it is ready.
            .waitingFor(Wait.forLogMessage("(?s).*Server listening on.*", 1))
            .withStartupTimeout(Duration.ofSeconds(60));
    if (published) container.withExposedPorts(22);
  }

  /** Starts a host whose user {@value #USER} accepts {@code keys}. */
  public static SshHost start(String name, TestKeys keys) {
    return start(new SshHost(name, keys));
  }

  /**
   * Starts a host on {@code network}, known there as {@code name}. Unless {@code published}, it has
   * no port on the controller: only other containers of the network reach it (a host behind a
   * bastion).
   */
  public static SshHost startOn(String name, TestKeys keys, Network network, boolean published) {
    SshHost host = new SshHost(name, keys, published);
    host.container.withNetwork(network).withNetworkAliases(name);
    return start(host);
  }

  /**
   * Starts a host of another image built from the test image (e.g. {@code
   * runbook-test/service:current}) on {@code network}, known there as {@code name}, with SSH and
   * {@code morePorts} published on the controller.
   */
  public static SshHost startOn(
      String name, TestKeys keys, Network network, String image, int... morePorts) {
    SshHost host = new SshHost(name, keys, true, image);
    for (int port : morePorts) host.container.addExposedPort(port);
    host.container.withNetwork(network).withNetworkAliases(name);
    return start(host);
  }

  /** The controller's port for {@code port} of the container, when it was published. */
  public int mappedPort(int port) {
    return container.getMappedPort(port);
  }

  /** Copies a file or directory of the controller into the container. */
  public void copyIn(Path from, String to) {
    container.copyFileToContainer(MountableFile.forHostPath(from), to);
  }

  /**
   * Attaches the running host to another network too, known there as its name (a bastion between
   * two).
   */
  public void attach(Network network) {
    container
        .getDockerClient()
        .connectToNetworkCmd()
        .withNetworkId(network.getId())
        .withContainerId(container.getContainerId())
        .withContainerNetwork(new ContainerNetwork().withAliases(name))
        .exec();
  }

  /** The host's key as a known_hosts line for its name on port 22, as a jump host sees it. */
  public String knownHostsLineByName() {
    String[] pub = readFile("/etc/ssh/ssh_host_ed25519_key.pub").strip().split("\\s+", -1);
    return name + " " + pub[0] + " " + pub[1];
  }

  /**
   * Starts a host of {@link #SERVICE_IMAGE}: HAProxy and PostgreSQL installed, to be started by the
   * test.
   */
  public static SshHost startService(String name) {
    return start(new SshHost(name, TestKeys.shared(), true, SERVICE_IMAGE));
  }

  private static SshHost start(SshHost host) {
    requireDockerAndImage(host.image);
    try {
      host.container.start();
      host.exec(
          "sh",
          "-c",
          "install -d -m 700 -o runbook -g runbook /home/runbook/.ssh"
              + " && printf '%s\\n' \"$1\" > /home/runbook/.ssh/authorized_keys"
              + " && chown runbook:runbook /home/runbook/.ssh/authorized_keys"
              + " && chmod 600 /home/runbook/.ssh/authorized_keys",
          "sh",
          host.keys.publicKeyLine());
      return host;
    } catch (RuntimeException e) {
      host.close();
      throw e;
    }
  }

  public static SshHost start(String name) {
    return start(name, TestKeys.shared());
  }

  /** Fails, never skips: a suite that silently skips its SSH tests proves nothing. */
  public static void requireDockerAndImage() {
    requireDockerAndImage(IMAGE);
  }

  private static void requireDockerAndImage(String image) {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      throw new IllegalStateException(
          "Docker is not reachable, so the SSH test hosts cannot start. " + FIX);
    }
    try {
      DockerClientFactory.instance().client().inspectImageCmd(image).exec();
    } catch (NotFoundException e) {
      throw new IllegalStateException("The test image " + image + " does not exist. " + FIX, e);
    }
  }

  public String name() {
    return name;
  }

  public String host() {
    return ADDRESS;
  }

  public int port() {
    return container.getMappedPort(22);
  }

  public String user() {
    return USER;
  }

  public Path privateKey() {
    return keys.privateKey();
  }

  /**
   * This host's ed25519 key as a known_hosts line: {@code [127.0.0.1]:PORT ssh-ed25519 AAAA...}.
   */
  public String knownHostsLine() {
    String[] pub = readFile("/etc/ssh/ssh_host_ed25519_key.pub").strip().split("\\s+", -1);
    return "[" + ADDRESS + "]:" + port() + " " + pub[0] + " " + pub[1];
  }

  /** Runs a command in the container as root (through Docker, not SSH) and returns its stdout. */
  public String exec(String... command) {
    Container.ExecResult r;
    try {
      r = container.execInContainer(command);
    } catch (IOException e) {
      throw new IllegalStateException(name + ": docker exec failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    if (r.getExitCode() != 0) {
      throw new IllegalStateException(
          name
              + ": "
              + String.join(" ", command)
              + " exited "
              + r.getExitCode()
              + ": "
              + r.getStderr().strip());
    }
    return r.getStdout();
  }

  public String readFile(String path) {
    return exec("cat", path);
  }

  /** The hex SHA-256 of a file on the host. */
  public String sha256(String path) {
    return exec("sha256sum", path).split("\\s+", -1)[0];
  }

  /** Freezes every process of the host: TCP still connects, nothing answers. */
  public void pause() {
    container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
  }

  public void unpause() {
    container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
  }

  /** Kills the host like a power cut. */
  public void kill() {
    container.getDockerClient().killContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public void close() {
    if (container.isRunning()) {
      try {
        unpause(); // a test that failed half-way may leave it frozen, and a frozen container will
        // not stop
      } catch (RuntimeException notPaused) {
        // the usual case
      }
    }
    container.stop();
  }

  @Override
  public String toString() {
    return name + " (" + USER + "@" + ADDRESS + ":" + (container.isRunning() ? port() : "-") + ")";
  }
}
