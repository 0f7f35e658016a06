package io.runbook.transport;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.docker.DockerClients;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Runs commands in a container through the Docker Engine API ({@code ansible_connection: docker}, with
 * {@code ansible_host} the container's name or id, as Ansible's docker connection has it): exec-create and
 * exec-start with stdout and stderr demultiplexed, the exit code from exec-inspect; files travel through the
 * archive API (a one-file tar put or got) instead of {@code cat}.
 *
 * <p>Same semantics as {@link SshTransport}: commands run as {@code ansible_user} (else the image's user)
 * in {@code /bin/sh}, {@code become} through {@code sudo -n}, output tails capped, and a command that runs
 * past its time-out is killed with its whole process group (it runs under {@code setsid -w}, so its shell
 * leads a group and names it on stderr first, as over SSH; a second exec, as root, sends TERM then KILL to
 * that group).
 *
 * <p>Each command is an attached exec on a connection of its own ({@link DockerExecStream}): stdin is
 * written to it and ended with a half-close, stdout and stderr come back as frames, and exec-inspect gives
 * the exit code. That costs a few milliseconds, where detached execs with their input and output in files
 * read back through the archive API cost 0.3-0.8 s. Everything else (create, inspect, archive) goes through
 * docker-java.
 */
public final class DockerTransport implements Transport {
  private static final Duration TERM_GRACE = Duration.ofSeconds(1);
  /** After a command ended, how long its output may still arrive: a daemon it started may hold the stream. */
  private static final Duration DRAIN = Duration.ofSeconds(2);
  private static final long POLL_MS = 100;

  private final String name;
  private final String container;
  private final String user;
  private final DockerClient docker;
  private final URI dockerHost;
  private final Map<String, int[]> ids = new HashMap<>();
  private boolean closed;

  private DockerTransport(String name, String container, String user, DockerClient docker, URI dockerHost) {
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
   * @throws TransportException naming the host when the daemon does not answer or the container is not running
   */
  public static DockerTransport connect(String name, String container, String user) {
    URI host = DockerClients.localHost();
    DockerTransport t = new DockerTransport(name, container, user, DockerClients.forHost(host), host);
    try {
      InspectContainerResponse c = t.docker.inspectContainerCmd(container).exec();
      if (c.getState() == null || !Boolean.TRUE.equals(c.getState().getRunning())) {
        throw new TransportException(t.describe(), "container '" + container + "' is not running (docker start "
            + container + ")");
      }
    } catch (NotFoundException e) {
      t.close();
      throw new TransportException(t.describe(), "no container '" + container + "' on the Docker daemon: check"
          + " ansible_host (a container name or id; see docker ps -a)");
    } catch (TransportException e) {
      t.close();
      throw e;
    } catch (RuntimeException e) {
      t.close();
      throw new TransportException(t.describe(), "the Docker daemon did not answer: " + e.getMessage()
          + " (is dockerd running? DOCKER_HOST?)", e);
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
    // setsid -w: the shell leads a process group of its own, whose id it tells us first thing on stderr;
    // "exit $?" keeps it the parent of the command (sudo ignores signals from its own process group).
    String script = (request.stdin() == null ? "exec </dev/null; " : "") + ProcessGroupMarker.PREFIX
        + request.shellCommand() + "\nexit $?";
    String execId = create(List.of("setsid", "-w", "/bin/sh", "-c", script), user, request.stdin() != null);
    Integer code;
    try (DockerExecStream stream = attach(execId, request.stdin(), out, marker)) {
      code = await(execId, stream, deadline);
      if (code == null) {
        // TERM, then KILL, to the whole group, as root so that what sudo started dies too.
        long group = marker.pgid() > 1 ? marker.pgid() : pid(execId);
        if (group > 1) {
          run(List.of("/bin/sh", "-c", "kill -TERM -" + group + " 2>/dev/null; sleep " + TERM_GRACE.toSeconds()
              + "; kill -KILL -" + group + " 2>/dev/null; true"), "root", Duration.ofSeconds(10));
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
    return new ExecResult(timedOut ? -1 : code, out.toByteArray(), err.toByteArray(), out.total(), err.total(),
        Duration.ofNanos(System.nanoTime() - started), timedOut);
  }

  /**
   * Waits until the exec ended or {@code deadline} (System.nanoTime) passed: its exit code, or null on a
   * time-out. The end of the output usually comes with the end of the command and costs one inspect; a
   * daemon that the command started may hold the output open, so while it stays open the exec is inspected
   * now and then, and once the command is found ended its output gets {@link #DRAIN} to finish.
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
          throw new TransportException(describe(), "lost the Docker stream while a command was running; whether it"
              + " finished is unknown: " + stream.failure().getMessage(), stream.failure());
        }
        check = Math.min(POLL_MS, check * 2);
      }
      Long exit = exitCode(execId);
      if (exit != null) return exit.intValue();
      if (System.nanoTime() > deadline) return null;
      if (!streaming) {
        // The output ended (the daemon's last frames come just before the exit is recorded), or the command
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
      throw new TransportException(describe(), "lost the Docker daemon while a command was running; whether"
          + " it finished is unknown: " + e.getMessage(), e);
    }
    return !Boolean.TRUE.equals(r.isRunning()) && r.getExitCodeLong() != null ? r.getExitCodeLong() : null;
  }

  private long pid(String execId) {
    try {
      Long pid = docker.inspectExecCmd(execId).exec().getPidLong();
      return pid == null ? -1 : pid;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Runs one of our own commands (no input, output ignored); its exit code, or -1 after {@code timeout}. */
  private int run(List<String> argv, String as, Duration timeout) {
    String execId = create(argv, as, false);
    try (DockerExecStream stream = attach(execId, null, OutputStream.nullOutputStream(),
        OutputStream.nullOutputStream())) {
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
      var cmd = docker.execCreateCmd(container).withCmd(argv.toArray(String[]::new))
          .withAttachStdout(true).withAttachStderr(true).withAttachStdin(stdin).withTty(false);
      if (as != null) cmd = cmd.withUser(as);
      return cmd.exec().getId();
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (DockerException e) {
      throw new TransportException(describe(), "the Docker daemon refused the command: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new TransportException(describe(), "the Docker daemon did not answer: " + e.getMessage(), e);
    }
  }

  /** Starts the exec attached, on a connection of its own (see {@link DockerExecStream} for why). */
  private DockerExecStream attach(String execId, byte[] stdin, OutputStream stdout, OutputStream stderr) {
    try {
      return DockerExecStream.start(dockerHost, execId, stdin, stdout, stderr, name);
    } catch (DockerExecStream.DockerApiException e) {
      if (e.status == 404) throw gone(e);
      throw new TransportException(describe(), "the Docker daemon refused the command: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(describe(), "the Docker daemon did not answer: " + e.getMessage(), e);
    }
  }

  private TransportException gone(Exception e) {
    return new TransportException(describe(), "container '" + container + "' is gone (removed or never"
        + " created): " + e.getMessage(), e);
  }

  // ---- files through the archive API

  @Override
  public void upload(byte[] content, String path, String mode, Become become) {
    String effective = become.enabled() ? become.user() : user;
    // The directory is made, and checked writable, as the user the write is for: the archive API itself
    // writes as root and would bypass the permissions every other transport honours.
    String q = Shell.quote(path);
    String prepare = "set -e; d=$(dirname " + q + "); mkdir -p \"$d\"; test -w \"$d\" || { echo \"$d: not writable\" >&2; exit 1; }; "
        + "if [ -e " + q + " ]; then stat -c %a " + q + "; fi";
    ExecResult r = exec(ExecRequest.builder(prepare).become(become).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot write " + path + ": " + r.stderrText().strip());
    }
    int fileMode = mode != null ? Integer.parseInt(mode, 8)
        : r.stdoutText().isBlank() ? 0644 : Integer.parseInt(r.stdoutText().strip(), 8);
    String dir = path.contains("/") ? path.substring(0, Math.max(1, path.lastIndexOf('/'))) : ".";
    String tmp = (dir.endsWith("/") ? dir : dir + "/") + ".runbook-upload." + UUID.randomUUID().toString().substring(0, 8);
    putFile(tmp, content, fileMode, userIds(effective));
    ExecResult mv = exec(ExecRequest.builder("mv -f " + Shell.quote(tmp) + " " + q + " || { rm -f "
        + Shell.quote(tmp) + "; exit 1; }").become(become).build());
    if (mv.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot write " + path + ": " + mv.stderrText().strip());
    }
  }

  @Override
  public byte[] download(String path, Become become) {
    ExecResult r = exec(ExecRequest.builder("test -f " + Shell.quote(path) + " -a -r " + Shell.quote(path)
        + " || { ls -ld " + Shell.quote(path) + " >&2 || true; echo 'not a readable file' >&2; exit 1; }")
        .become(become).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot read " + path + ": " + r.stderrText().strip());
    }
    try (InputStream in = docker.copyArchiveFromContainerCmd(container, path).exec();
        TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        if (e.isFile()) {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          tar.transferTo(bytes);
          return bytes.toByteArray();
        }
      }
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot read " + path + ": the archive held no file");
    } catch (NotFoundException e) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot read " + path + ": no such file");
    } catch (IOException e) {
      throw new TransportException(describe(), "lost the Docker stream while reading " + path + ": " + e.getMessage(), e);
    }
  }

  /** Puts one file, through a one-entry tar, with the given mode and owner. */
  private void putFile(String path, byte[] content, int mode, int[] owner) {
    int slash = path.lastIndexOf('/');
    String dir = slash <= 0 ? "/" : path.substring(0, slash);
    ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      entry(tar, path.substring(slash + 1), content, mode, owner);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    copyIn(dir, tarBytes.toByteArray(), path);
  }

  private static void entry(TarArchiveOutputStream tar, String name, byte[] content, int mode, int[] owner)
      throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(content.length);
    e.setMode(0100000 | mode);
    e.setIds(owner[0], owner[1]);
    e.setModTime(System.currentTimeMillis());
    tar.putArchiveEntry(e);
    tar.write(content);
    tar.closeArchiveEntry();
  }

  private void copyIn(String dir, byte[] tar, String what) {
    try {
      docker.copyArchiveToContainerCmd(container).withRemotePath(dir)
          .withTarInputStream(new ByteArrayInputStream(tar)).exec();
    } catch (NotFoundException e) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot write " + what + ": " + e.getMessage());
    } catch (DockerException e) {
      throw new TransportException(describe(), "the Docker daemon refused to copy " + what + ": " + e.getMessage(), e);
    }
  }

  /** The regular files directly in {@code dir}, by name. */
  private Map<String, byte[]> getFiles(String dir) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (InputStream in = docker.copyArchiveFromContainerCmd(container, dir).exec();
        TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        if (!e.isFile()) continue;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        tar.transferTo(bytes);
        out.put(e.getName().substring(e.getName().lastIndexOf('/') + 1), bytes.toByteArray());
      }
      return out;
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (IOException e) {
      throw new TransportException(describe(), "lost the Docker stream while reading a command's output: "
          + e.getMessage(), e);
    }
  }

  /** uid and gid of {@code who} (null: the container's user), from the container's /etc/passwd. */
  private int[] userIds(String who) {
    String key = who == null ? "" : who;
    int[] cached = ids.get(key);
    if (cached != null) return cached;
    String name = who;
    if (name == null) {
      String configured = docker.inspectContainerCmd(container).exec().getConfig().getUser();
      name = configured == null || configured.isBlank() ? "root" : configured;
    }
    int[] result = null;
    if (name.matches("[0-9]+(:[0-9]+)?")) {
      String[] p = name.split(":");
      result = new int[] {Integer.parseInt(p[0]), Integer.parseInt(p.length > 1 ? p[1] : p[0])};
    } else {
      String passwd = new String(getFiles("/etc/passwd").getOrDefault("passwd", new byte[0]),
          java.nio.charset.StandardCharsets.UTF_8);
      for (String line : passwd.split("\n")) {
        String[] f = line.split(":");
        if (f.length > 3 && f[0].equals(name)) result = new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])};
      }
    }
    if (result == null) {
      throw new TransportException(describe(), "no user '" + name + "' in container '" + container
          + "' (ansible_user names the user commands run as)");
    }
    ids.put(key, result);
    return result;
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
