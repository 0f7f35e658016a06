package io.runbook.transport;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.Closeable;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * How the engine reaches one host. One instance per host and run, opened once and reused for every
 * step of that host (for SSH: one connection, one channel per command). Implementations: {@link
 * LocalTransport} for {@code ansible_connection: local}, {@code SshTransport} over sshj, {@link
 * DockerTransport} through the Docker Engine API for {@code ansible_connection: docker}.
 *
 * <p>No transport-library type leaks through this interface: steps see commands, bytes and paths.
 * Implementations must be safe for use by one thread at a time; the engine never shares a host's
 * transport between threads.
 */
public interface Transport extends Closeable {

  /**
   * Runs {@link ExecRequest#shellCommand()} on the host, feeding {@code stdin} if given, and waits
   * for it up to the request's time-out. A command that exits non-zero is a normal result; a
   * command that exceeds its time-out is killed and reported with {@link ExecResult#timedOut()}.
   *
   * @throws TransportException when the host cannot be reached or the connection is lost
   *     mid-command
   */
  ExecResult exec(ExecRequest request);

  /**
   * Writes {@code content} to {@code path} atomically (a temporary file in the same directory, then
   * a rename), creating parent directories, with the given octal {@code mode} (e.g. "0644"), or the
   * target's existing mode/umask default when {@code mode} is null.
   *
   * @throws RunbookException (HOST_FAILED) when the host refuses the write (permissions, no space)
   * @throws TransportException when the connection is lost
   */
  default void upload(byte[] content, String path, String mode, Become become) {
    String q = Shell.quote(path);
    String script =
        "set -e; d=$(dirname "
            + q
            + "); mkdir -p \"$d\"; "
            + "t=$(mktemp \"$d/.runbook-upload.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; cat > \"$t\"; "
            + (mode != null
                ? "chmod " + Shell.quote(mode) + " \"$t\"; "
                : "if [ -e "
                    + q
                    + " ]; then chmod --reference="
                    + q
                    + " \"$t\"; else chmod 0644 \"$t\"; fi; ")
            + "mv -f \"$t\" "
            + q
            + "; trap - EXIT";
    ExecResult r = exec(ExecRequest.builder(script).stdin(content).become(become).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED, "cannot write " + path + ": " + r.stderrText().strip());
    }
  }

  /**
   * Reads a whole file from the host.
   *
   * @throws RunbookException (HOST_FAILED) when the file cannot be read
   * @throws TransportException when the connection is lost
   */
  default byte[] download(String path, Become become) {
    ExecResult r =
        exec(
            ExecRequest.builder("cat " + Shell.quote(path))
                .become(become)
                .maxOutput(Integer.MAX_VALUE)
                .build());
    if (r.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED, "cannot read " + path + ": " + r.stderrText().strip());
    }
    return r.stdout();
  }

  /** Reads a whole text file from the host as UTF-8. */
  default String downloadText(String path, Become become) {
    return new String(download(path, become), StandardCharsets.UTF_8);
  }

  /**
   * Where a Docker client on the controller reaches the Docker daemon listening on {@code
   * socketPath} on this host: {@code unix:///path} for the local machine, {@code
   * tcp://127.0.0.1:PORT} for a socket forwarded over SSH. Opened on first use and released with
   * the transport.
   *
   * @throws RunbookException (HOST_FAILED) when this kind of connection cannot reach a Docker
   *     daemon
   */
  default URI dockerHost(String socketPath) {
    throw new RunbookException(
        ErrorCode.HOST_FAILED,
        describe()
            + ": this connection type cannot reach a "
            + "Docker daemon; use ansible_connection ssh or local");
  }

  /** A short description for messages: {@code web1 (deploy@10.0.0.5:22)}. */
  String describe();

  /** Releases the connection. Never throws. */
  @Override
  void close();
}
