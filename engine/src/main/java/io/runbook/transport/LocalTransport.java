package io.runbook.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands on the controller itself ({@code ansible_connection: local}) through {@code /bin/sh
 * -c}.
 */
public final class LocalTransport implements Transport {
  private final String name;

  public LocalTransport(String name) {
    this.name = name;
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    long started = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", request.shellCommand());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new TransportException(describe(), "cannot start /bin/sh: " + e.getMessage(), e);
    }
    TailBuffer out = new TailBuffer(request.maxOutput());
    TailBuffer err = new TailBuffer(request.maxOutput());
    Thread outPump = pump(p.getInputStream(), out);
    Thread errPump = pump(p.getErrorStream(), err);
    try (OutputStream stdin = p.getOutputStream()) {
      if (request.stdin() != null) stdin.write(request.stdin());
    } catch (IOException ignored) {
      // the command closed its input early; its exit code tells the story
    }
    boolean timedOut = false;
    try {
      if (!p.waitFor(request.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        // Stop the shell first, or it would go on to the next command once its child is killed.
        List<ProcessHandle> children = p.descendants().toList();
        p.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        p.waitFor(5, TimeUnit.SECONDS);
      }
      // A command that starts a daemon may leave it holding our pipes; do not wait for it forever.
      outPump.join(2000);
      errPump.join(2000);
    } catch (InterruptedException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new TransportException(describe(), "interrupted while running a command");
    }
    int code = timedOut ? -1 : p.exitValue();
    return new ExecResult(
        code,
        out.toByteArray(),
        err.toByteArray(),
        out.total(),
        err.total(),
        Duration.ofNanos(System.nanoTime() - started),
        timedOut);
  }

  private static Thread pump(InputStream in, OutputStream sink) {
    Thread t =
        new Thread(
            () -> {
              try (in) {
                in.transferTo(sink);
              } catch (IOException ignored) {
                // stream closed when the process was killed
              }
            },
            "local-pump");
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Override
  public String describe() {
    return name + " (local)";
  }

  /** The daemon's own socket: the controller is the host. */
  @Override
  public URI dockerHost(String socketPath) {
    return URI.create("unix://" + socketPath);
  }

  @Override
  public void close() {}
}
