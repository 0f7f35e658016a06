package io.runbook.transport;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
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
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * leads a group; a second exec, as root, sends TERM then KILL to that group).
 *
 * <p>Commands run as detached execs: standard input is put into a private temporary directory in the
 * container first, output goes to files there, and the tails and byte counts come back in one archive
 * read. Attached (hijacked) exec streams are inexact about end-of-file on stdin and, through docker-java's
 * zerodep transport, break when other API calls run beside them; files have neither problem, and a daemon
 * that a command starts cannot hold a command open by keeping its output.
 */
public final class DockerTransport implements Transport {
  private static final Duration TERM_GRACE = Duration.ofSeconds(1);
  private static final long POLL_MS = 100;

  private final String name;
  private final String container;
  private final String user;
  private final DockerClient docker;
  private final Map<String, int[]> ids = new HashMap<>();
  private boolean closed;

  private DockerTransport(String name, String container, String user, DockerClient docker) {
    this.name = name;
    this.container = container;
    this.user = user;
    this.docker = docker;
  }

  /**
   * Connects to the controller's Docker daemon and checks that the container runs.
   *
   * @param user the user commands run as, or null for the container's own
   * @throws TransportException naming the host when the daemon does not answer or the container is not running
   */
  public static DockerTransport connect(String name, String container, String user) {
    DockerClient docker = DockerClients.local();
    DockerTransport t = new DockerTransport(name, container, user, docker);
    try {
      InspectContainerResponse c = docker.inspectContainerCmd(container).exec();
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
    String dir = "/tmp/.runbook-exec-" + UUID.randomUUID();
    String d = Shell.quote(dir);
    int cap = Math.max(1, request.maxOutput());
    String input = "/dev/null";
    String mkdir = "mkdir -m 700 " + d + " || exit 125; ";
    if (request.stdin() != null) {
      // An archive put costs about as much as the exec itself: only when there is input to give.
      putFiles(dir, Map.of("stdin", request.stdin()), userIds(user));
      input = d + "/stdin";
      mkdir = "";
    }
    // setsid -w: the shell leads a new process group (its $$), and the exec lasts as long as it does. The
    // output goes to files, so a daemon the command starts cannot hold the exec open.
    String wrapper = mkdir + "echo $$ > " + d + "/pgid; (\n" + request.shellCommand() + "\n) < " + input + " > " + d
        + "/out 2> " + d + "/err; rc=$?; " + tails(d, cap) + "; exit $rc";
    try {
      String execId = start(List.of("setsid", "-w", "/bin/sh", "-c", wrapper), user);
      Integer code = await(execId, request.timeout());
      boolean timedOut = code == null;
      if (timedOut) {
        // TERM, then KILL, to the whole group, as root so that what sudo started dies too; then the tails.
        String kill = "g=$(cat " + d + "/pgid 2>/dev/null) && [ \"$g\" -gt 1 ] && { kill -TERM -\"$g\" 2>/dev/null; sleep "
            + TERM_GRACE.toSeconds() + "; kill -KILL -\"$g\" 2>/dev/null; }; " + tails(d, cap);
        await(start(List.of("/bin/sh", "-c", kill), "root"), Duration.ofSeconds(10));
      }
      Map<String, byte[]> got;
      try {
        got = getFiles(dir);
      } catch (TransportException e) {
        if (code == null || code != 125) throw e;
        throw new TransportException(describe(), "cannot make a private directory under /tmp in container '"
            + container + "' as " + (user == null ? "its user" : user) + " (is /tmp writable?)");
      }
      return new ExecResult(timedOut ? -1 : code, got.getOrDefault("out.tail", new byte[0]),
          got.getOrDefault("err.tail", new byte[0]), size(got.get("out.size")), size(got.get("err.size")),
          Duration.ofNanos(System.nanoTime() - started), timedOut);
    } finally {
      if (!closed) {
        try {
          start(List.of("rm", "-rf", dir), "root");
        } catch (RuntimeException ignored) {
          // the container is gone; nothing left to tidy
        }
      }
    }
  }

  private static String tails(String d, int cap) {
    return "tail -c " + cap + " " + d + "/out > " + d + "/out.tail; tail -c " + cap + " " + d + "/err > " + d
        + "/err.tail; wc -c < " + d + "/out > " + d + "/out.size; wc -c < " + d + "/err > " + d + "/err.size";
  }

  private static long size(byte[] text) {
    if (text == null) return 0;
    String s = new String(text, java.nio.charset.StandardCharsets.UTF_8).strip();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  /**
   * Polls the exec until it ended; its exit code, or null when the time-out came first. (Attached exec
   * streams through docker-java's zerodep transport break when other API calls run beside them, so
   * commands run detached with their output in files.)
   */
  private Integer await(String execId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 2;
    while (true) {
      InspectExecResponse r;
      try {
        r = docker.inspectExecCmd(execId).exec();
      } catch (NotFoundException e) {
        throw gone(e);
      } catch (RuntimeException e) {
        throw new TransportException(describe(), "lost the Docker daemon while a command was running; whether"
            + " it finished is unknown: " + e.getMessage(), e);
      }
      if (!Boolean.TRUE.equals(r.isRunning()) && r.getExitCodeLong() != null) return r.getExitCodeLong().intValue();
      if (System.nanoTime() > deadline) return null;
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransportException(describe(), "interrupted while running a command");
      }
      pause = Math.min(POLL_MS, pause * 2);
    }
  }

  /** Creates and starts a detached exec. */
  private String start(List<String> argv, String as) {
    try {
      var cmd = docker.execCreateCmd(container).withCmd(argv.toArray(String[]::new))
          .withAttachStdout(false).withAttachStderr(false).withAttachStdin(false);
      if (as != null) cmd = cmd.withUser(as);
      String id = cmd.exec().getId();
      docker.execStartCmd(id).withDetach(true).exec(new ResultCallback.Adapter<>()).awaitCompletion();
      return id;
    } catch (NotFoundException e) {
      throw gone(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(describe(), "interrupted while starting a command");
    } catch (DockerException e) {
      throw new TransportException(describe(), "the Docker daemon refused the command: " + e.getMessage(), e);
    } catch (TransportException e) {
      throw e;
    } catch (RuntimeException e) {
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

  /** Makes directory {@code dir} (mode 0700) holding {@code files} (mode 0600), owned by {@code owner}. */
  private void putFiles(String dir, Map<String, byte[]> files, int[] owner) {
    int slash = dir.lastIndexOf('/');
    String name = dir.substring(slash + 1);
    ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      TarArchiveEntry d = new TarArchiveEntry(name + "/");
      d.setMode(040700);
      d.setIds(owner[0], owner[1]);
      tar.putArchiveEntry(d);
      tar.closeArchiveEntry();
      for (Map.Entry<String, byte[]> f : files.entrySet()) entry(tar, name + "/" + f.getKey(), f.getValue(), 0600, owner);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    copyIn(slash <= 0 ? "/" : dir.substring(0, slash), tarBytes.toByteArray(), dir);
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
