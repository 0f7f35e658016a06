package io.runbook.transport;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Runs commands in a container through the Docker Engine API ({@code ansible_connection: docker},
 * with {@code ansible_host} the container's name or id, as Ansible's docker connection has it):
 * exec-create, exec-start attached with stdout and stderr demultiplexed, the exit code from
 * exec-inspect.
 *
 * <p>Same semantics as {@link SshTransport}: commands run as {@code ansible_user} (else the image's
 * user) in {@code /bin/sh}, {@code become} through {@code sudo -n}, output tails capped, and a
 * command that runs past its time-out is killed with its whole process group (it runs under {@code
 * setsid -w}, so its shell leads a group and names it on stderr first, as over SSH; a second exec,
 * as root, sends TERM then KILL to that group). Files go up and down as over SSH, by {@link
 * Transport}'s own upload and download (a temporary file written from stdin as the user, then
 * renamed; {@code cat}), so ownership and permissions are the user's.
 *
 * <p>Each command is an attached exec on a connection of its own ({@link DockerExecStream}): stdin
 * is written to it and ended with a half-close, stdout and stderr come back as frames. That costs
 * what the daemon takes to start a process in the container (tens of milliseconds), where detached
 * execs with their input and output in files read back through the archive API cost 0.3-0.8 s.
 * Create and inspect go through docker-java.
 */
public final class DockerTransport implements Transport {
  private static final Duration TERM_GRACE = Duration.ofSeconds(1);

  /**
   * After a command ended, how long its output may still arrive: a daemon it started may hold the
   * stream.
   */
  private static final Duration DRAIN = Duration.ofSeconds(2);

  private static final long POLL_MS = 100;

  private final String name;
  private final String container;
  private final String user;
  private final DockerClient docker;
  private final URI dockerHost;
  private boolean closed;

  private DockerTransport(
      String name, String container, String user, DockerClient docker, URI dockerHost) {
    this.name = name;
    this.container = container;
    this.user = user;
    this.docker = docker;
    this.dockerHost = dockerHost;
  }

  /**
   * Connects to the controller's Docker daemon and checks that the container runs.
   *
   * @param user the user commands run as, or null for the container's own
   * @throws TransportException naming the host when the daemon does not answer or the container is
   *     not running
   */
  public static DockerTransport connect(String name, String container, String user) {
    URI host = DockerClients.localHost();
    DockerTransport t =
        new DockerTransport(name, container, user, DockerClients.forHost(host), host);
    try {
      InspectContainerResponse c = t.docker.inspectContainerCmd(container).exec();
      if (c.getState() == null || !Boolean.TRUE.equals(c.getState().getRunning())) {
        throw new TransportException(
            t.describe(),
            "container '" + container + "' is not running (docker start " + container + ")");
      }
    } catch (NotFoundException e) {
      t.close();
      throw new TransportException(
          t.describe(),
          "no container '"
              + container
              + "' on the Docker daemon: check"
              + " ansible_host (a container name or id; see docker ps -a)");
    } catch (TransportException e) {
      t.close();
      throw e;
    } catch (RuntimeException e) {
      t.close();
      throw new TransportException(
          t.describe(),
          "the Docker daemon did not answer: "
              + e.getMessage()
              + " (is dockerd running? DOCKER_HOST?)",
          e);
    }
    return t;
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    if (closed) throw new TransportException(describe(), "the connection was already closed");
    long started = System.nanoTime();
    long deadline = started + request.timeout().toNanos();
    TailBuffer out = new TailBuffer(request.maxOutput());
    TailBuffer err = new TailBuffer(request.maxOutput());
    ProcessGroupMarker marker = new ProcessGroupMarker(err);
    // setsid -w: the shell leads a process group of its own, whose id it tells us first thing on
    // stderr;
    // "exit $?" keeps it the parent of the command (sudo ignores signals from its own process
    // group).
    String script =
        (request.stdin() == null ? "exec </dev/null; " : "")
            + ProcessGroupMarker.PREFIX
            + request.shellCommand()
            + "\nexit $?";
    String execId =
        create(List.of("setsid", "-w", "/bin/sh", "-c", script), user, request.stdin() != null);
    Integer code;
    try (DockerExecStream stream = attach(execId, request.stdin(), out, marker)) {
      code = await(execId, stream, deadline);
      if (code == null) {
        // TERM, then KILL, to the whole group, as root so that what sudo started dies too.
        long group = marker.pgid() > 1 ? marker.pgid() : pid(execId);
        if (group > 1) {
          run(
              List.of(
                  "/bin/sh",
                  "-c",
                  "kill -TERM -"
                      + group
                      + " 2>/dev/null; sleep "
                      + TERM_GRACE.toSeconds()
                      + "; kill -KILL -"
                      + group
                      + " 2>/dev/null; true"),
              "root",
              Duration.ofSeconds(10));
        }
      }
      waitQuietly(stream, DRAIN);
    }
    try {
      marker.close(); // hands on a last stderr line without a newline
    } catch (IOException ignored) {
      // a TailBuffer does not fail
    }
    boolean timedOut = code == null;
    return new ExecResult(
        timedOut ? -1 : code,
        out.toByteArray(),
        err.toByteArray(),
        out.total(),
        err.total(),
        Duration.ofNanos(System.nanoTime() - started),
        timedOut);
  }

  /**
   * Waits until the exec ended or {@code deadline} (System.nanoTime) passed: its exit code, or null
   * on a time-out. The end of the output usually comes with the end of the command and costs one
   * inspect; a daemon that the command started may hold the output open, so while it stays open the
   * exec is inspected now and then, and once the command is found ended its output gets {@link
   * #DRAIN} to finish.
   */
  private Integer await(String execId, DockerExecStream stream, long deadline) {
    long pause = 1;
    long check = 50;
    boolean streaming = true;
    while (true) {
      long left = deadline - System.nanoTime();
      if (streaming) {
        streaming = !waitFor(stream, Math.min(check, Math.max(1, left / 1_000_000)));
        if (!streaming && stream.failure() != null) {
          throw new TransportException(
              describe(),
              "lost the Docker stream while a command was running; whether it"
                  + " finished is unknown: "
                  + stream.failure().getMessage(),
              stream.failure());
        }
        check = Math.min(POLL_MS, check * 2);
      }
      Long exit = exitCode(execId);
      if (exit != null) return exit.intValue();
      if (System.nanoTime() > deadline) return null;
      if (!streaming) {
        // The output ended (the daemon's last frames come just before the exit is recorded), or the
        // command
        // closed its own output and runs on.
        sleep(pause);
        pause = Math.min(POLL_MS, pause * 2);
      }
    }
  }

  /** The exec's exit code, or null while it runs. */
  private Long exitCode(String execId) {
    InspectExecResponse r;
    try {
      r = docker.inspectExecCmd(execId).exec();
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (RuntimeException e) {
      throw new TransportException(
          describe(),
          "lost the Docker daemon while a command was running; whether"
              + " it finished is unknown: "
              + e.getMessage(),
          e);
    }
    return !Boolean.TRUE.equals(r.isRunning()) && r.getExitCodeLong() != null
        ? r.getExitCodeLong()
        : null;
  }

  private long pid(String execId) {
    try {
      Long pid = docker.inspectExecCmd(execId).exec().getPidLong();
      return pid == null ? -1 : pid;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /**
   * Runs one of our own commands (no input, output ignored); its exit code, or -1 after {@code
   * timeout}.
   */
  private int run(List<String> argv, String as, Duration timeout) {
    String execId = create(argv, as, false);
    try (DockerExecStream stream =
        attach(execId, null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream())) {
      Integer code = await(execId, stream, System.nanoTime() + timeout.toNanos());
      return code == null ? -1 : code;
    }
  }

  private boolean waitFor(DockerExecStream stream, long millis) {
    try {
      return stream.awaitEnd(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(describe(), "interrupted while running a command");
    }
  }

  private static void waitQuietly(DockerExecStream stream, Duration d) {
    try {
      stream.awaitEnd(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(describe(), "interrupted while running a command");
    }
  }

  /** Creates an exec with its output (and, if asked, its input) attached. */
  private String create(List<String> argv, String as, boolean stdin) {
    try {
      var cmd =
          docker
              .execCreateCmd(container)
              .withCmd(argv.toArray(String[]::new))
              .withAttachStdout(true)
              .withAttachStderr(true)
              .withAttachStdin(stdin)
              .withTty(false);
      if (as != null) cmd = cmd.withUser(as);
      return cmd.exec().getId();
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (DockerException e) {
      throw new TransportException(
          describe(), "the Docker daemon refused the command: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new TransportException(
          describe(), "the Docker daemon did not answer: " + e.getMessage(), e);
    }
  }

  /**
   * Starts the exec attached, on a connection of its own (see {@link DockerExecStream} for why).
   */
  private DockerExecStream attach(
      String execId, byte[] stdin, OutputStream stdout, OutputStream stderr) {
    try {
      return DockerExecStream.start(dockerHost, execId, stdin, stdout, stderr, name);
    } catch (DockerExecStream.DockerApiException e) {
      if (e.status == 404) throw gone(e);
      throw new TransportException(
          describe(), "the Docker daemon refused the command: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(
          describe(), "the Docker daemon did not answer: " + e.getMessage(), e);
    }
  }

  private TransportException gone(Exception e) {
    return new TransportException(
        describe(),
        "container '" + container + "' is gone (removed or never" + " created): " + e.getMessage(),
        e);
  }

  /**
   * The controller's own daemon, when the container has its socket mounted at {@code socketPath}
   * (as a rehearsal host of a Docker mode has): commands in the container and the engine's Docker
   * client then talk to one daemon. Any other socket in the container (a daemon of its own) is not
   * reachable from here.
   */
  @Override
  public URI dockerHost(String socketPath) {
    String controllers = DockerClients.localSocketPath();
    List<InspectContainerResponse.Mount> mounts;
    try {
      mounts = docker.inspectContainerCmd(container).exec().getMounts();
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (RuntimeException e) {
      throw new TransportException(
          describe(), "the Docker daemon did not answer: " + e.getMessage(), e);
    }
    for (InspectContainerResponse.Mount m :
        mounts == null ? List.<InspectContainerResponse.Mount>of() : mounts) {
      if (m.getDestination() != null
          && socketPath.equals(m.getDestination().getPath())
          && controllers.equals(m.getSource())) {
        return DockerClients.localHost();
      }
    }
    throw new RunbookException(
        ErrorCode.HOST_FAILED,
        describe()
            + ": "
            + socketPath
            + " in container '"
            + container
            + "' is not the Docker daemon this controller uses ("
            + controllers
            + "): a docker connection reaches"
            + " only that one; mount it there (docker run -v "
            + controllers
            + ":"
            + socketPath
            + ") or set docker_socket");
  }

  @Override
  public String describe() {
    return name + " (docker:" + container + ")";
  }

  @Override
  public void close() {
    closed = true;
    try {
      docker.close();
    } catch (IOException | RuntimeException ignored) {
      // nothing more to release
    }
  }
}
