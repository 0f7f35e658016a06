package io.runbook.testing;

import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * An SSH host whose Docker daemon is this machine's: a container of {@value #IMAGE} (the sshd test
 * image plus Debian's docker-compose) with {@code /var/run/docker.sock} bind-mounted and user
 * {@value #USER} in the socket's group, so runbook reaches the daemon through the socket forwarded
 * over SSH. It runs with host networking (sshd on a free loopback port), so 127.0.0.1 is the same
 * machine for the SSH host, the ports containers publish and the image registry on 127.0.0.1:5000.
 * {@link #shared()} is a directory with the same path on this machine and in the host: what a path
 * means to the daemon (bind mounts of backups, configs, compose projects) it also means over SSH.
 *
 * <p>Never skipped: without Docker, the images or the registry, it fails saying to run
 * scripts/test-env.sh.
 */
public final class DockerHost implements AutoCloseable {
  public static final String IMAGE = "runbook-test/docker-host:current";
  public static final String USER = "runbook";
  public static final String REGISTRY = "127.0.0.1:5000";
  public static final String REGISTRY_USER = "runbook";
  public static final String REGISTRY_PASSWORD = "runbook-test-pw";
  private static final String FIX =
      "Run scripts/test-env.sh (as root): it starts Docker and the loopback image"
          + " registry and builds the test images.";

  private final GenericContainer<?> container;
  private final int port;
  private final Ports.Reserved reserved;
  private final Path shared;
  private final TestKeys keys;

  private DockerHost(TestKeys keys) throws IOException {
    this.keys = keys;
    this.reserved = Ports.reserve(); // held until sshd starts on it
    this.port = reserved.port();
    this.shared = Files.createTempDirectory("runbook-dockerhost-");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    this.container =
        new GenericContainer<>(DockerImageName.parse(IMAGE))
            .withImagePullPolicy(image -> false)
            .withNetworkMode("host")
            .withFileSystemBind("/var/run/docker.sock", "/var/run/docker.sock", BindMode.READ_WRITE)
            .withFileSystemBind(shared.toString(), shared.toString(), BindMode.READ_WRITE)
            .withCommand(
                "/bin/sh",
                "-c",
                "ssh-keygen -A >/dev/null && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -p "
                    + port
                    + " -o ListenAddress=127.0.0.1")
            .waitingFor(Wait.forLogMessage("(?s).*Server listening on.*", 1))
            .withStartupTimeout(Duration.ofSeconds(60));
  }

  /**
   * Starts the host; {@code dockerAccess} false leaves {@value #USER} outside the socket's group.
   */
  public static DockerHost start(boolean dockerAccess) {
    requireEnvironment();
    DockerHost host;
    try {
      host = new DockerHost(TestKeys.shared());
    } catch (IOException e) {
      throw new IllegalStateException("cannot make the shared directory: " + e.getMessage(), e);
    }
    try {
      host.reserved.release();
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
      if (dockerAccess) host.grantDocker();
      return host;
    } catch (RuntimeException e) {
      host.close();
      throw e;
    }
  }

  /**
   * Puts {@value #USER} into the group of the socket (the machine's docker group id); new logins
   * have it.
   */
  public void grantDocker() {
    exec(
        "sh",
        "-c",
        "g=$(stat -c %g /var/run/docker.sock); n=$(getent group \"$g\" | cut -d: -f1); "
            + "if [ -z \"$n\" ]; then groupmod -g \"$g\" docker && n=docker; fi; usermod -aG \"$n\" runbook");
  }

  static void requireEnvironment() {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      throw new IllegalStateException("Docker is not reachable. " + FIX);
    }
    try {
      DockerClientFactory.instance().client().inspectImageCmd(IMAGE).exec();
    } catch (NotFoundException e) {
      throw new IllegalStateException("The test image " + IMAGE + " does not exist. " + FIX, e);
    }
    try {
      HttpResponse<Void> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://" + REGISTRY + "/v2/")).build(),
                  HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() != 401)
        throw new IllegalStateException("unexpected answer " + r.statusCode());
    } catch (Exception e) {
      throw new IllegalStateException(
          "No image registry (with basic auth) on " + REGISTRY + ": " + e.getMessage() + ". " + FIX,
          e);
    }
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  public Path privateKey() {
    return keys.privateKey();
  }

  /** A directory with the same path here and on the host. */
  public Path shared() {
    return shared;
  }

  /** This host's ed25519 key as a known_hosts line. */
  public String knownHostsLine() {
    String[] pub = exec("cat", "/etc/ssh/ssh_host_ed25519_key.pub").strip().split("\\s+", -1);
    return "[127.0.0.1]:" + port + " " + pub[0] + " " + pub[1];
  }

  /** The inventory lines of this host (indented for a hosts: map). */
  public String inventoryLines(String indent) {
    return indent
        + "ansible_host: 127.0.0.1\n"
        + indent
        + "ansible_port: "
        + port
        + "\n"
        + indent
        + "ansible_user: "
        + USER
        + "\n"
        + indent
        + "ansible_ssh_private_key_file: "
        + keys.privateKey()
        + "\n";
  }

  /**
   * Runs a command in the host container as root (through Docker, not SSH) and returns its stdout.
   */
  public String exec(String... command) {
    Container.ExecResult r;
    try {
      r = container.execInContainer(command);
    } catch (IOException e) {
      throw new IllegalStateException("docker exec failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    if (r.getExitCode() != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + " exited " + r.getExitCode() + ": " + r.getStderr().strip());
    }
    return r.getStdout();
  }

  /**
   * Runs the docker CLI of this machine (the daemon the host uses), logged in to the test registry
   * with a config of its own; returns stdout, fails on a non-zero exit.
   */
  public static String docker(String... args) {
    return dockerResult(args).out();
  }

  /** As {@link #docker} but returns the exit code and output instead of failing. */
  public static Cli dockerResult(String... args) {
    List<String> cmd = new ArrayList<>(List.of("docker", "--config", DockerLogin.DIR.toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      byte[] out = p.getInputStream().readAllBytes();
      byte[] err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " timed out");
      }
      Cli c =
          new Cli(
              p.exitValue(),
              new String(out, StandardCharsets.UTF_8),
              new String(err, StandardCharsets.UTF_8));
      return c;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run docker: " + e.getMessage() + ". " + FIX, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The end of one docker CLI run. */
  public record Cli(int code, String out, String err) {
    @Override
    public String out() {
      if (code != 0) throw new IllegalStateException("docker exited " + code + ": " + err.strip());
      return out;
    }
  }

  /** The sha256 of every file in a volume, sorted by path: equal strings mean equal contents. */
  public static String volumeChecksums(String volume, String image) {
    return docker(
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        volume + ":/volume:ro",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "cd /volume && find . -type f | LC_ALL=C sort | xargs -r sha256sum");
  }

  /** A docker CLI login to the test registry, kept out of the user's ~/.docker. */
  static final class DockerLogin {
    static final Path DIR = login();

    private static Path login() {
      try {
        Path dir = Files.createTempDirectory("runbook-docker-config");
        Process p =
            new ProcessBuilder(
                    "docker",
                    "--config",
                    dir.toString(),
                    "login",
                    "-u",
                    REGISTRY_USER,
                    "--password-stdin",
                    REGISTRY)
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().write(REGISTRY_PASSWORD.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException(
              "docker login " + REGISTRY + " failed: " + out + ". " + FIX);
        }
        return dir;
      } catch (IOException e) {
        throw new IllegalStateException("cannot run docker login: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  @Override
  public void close() {
    if (container.isRunning()) {
      try {
        // Root in the host (and the throwaway containers) wrote files here that this JVM may not
        // delete.
        exec("sh", "-c", "rm -rf " + shared + "/* " + shared + "/.[!.]*");
      } catch (RuntimeException ignored) {
        // best effort
      }
      container.stop();
    }
    try (var files = Files.walk(shared)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory
    }
  }
}
