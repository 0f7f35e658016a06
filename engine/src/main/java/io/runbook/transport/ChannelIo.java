package io.runbook.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.direct.Session;

/**
 * One command's stdin, stdout and stderr, moved on the thread that runs the command: no pump
 * threads.
 *
 * <p>sshj's reader thread puts what the host sends into each stream's buffer; {@link #awaitClose}
 * takes it out (which also returns the window to the host) and writes stdin no faster than the
 * host's window allows, so no call here blocks on a host that stops reading or writing. While
 * output arrives it loops at once; when nothing moves it sleeps on the channel's close, 1 ms at
 * first and at most {@value #MAX_IDLE_MS} ms, so a command that ends wakes it at once and a quiet
 * one costs a few wake-ups a second.
 */
final class ChannelIo {
  private static final long MAX_IDLE_MS = 20;
  private static final int CHUNK = 32 * 1024;

  private final Session.Command cmd;
  private final InputStream stdout;
  private final InputStream stderr;
  private final OutputStream outSink;
  private final OutputStream errSink;
  private final byte[] stdin;
  private final byte[] buf = new byte[CHUNK];
  private int stdinSent;
  private boolean stdinDone;
  private boolean sinksClosed;

  ChannelIo(Session.Command cmd, byte[] stdin, OutputStream outSink, OutputStream errSink) {
    this.cmd = cmd;
    this.stdout = cmd.getInputStream();
    this.stderr = cmd.getErrorStream();
    this.outSink = outSink;
    this.errSink = errSink;
    this.stdin = stdin == null ? new byte[0] : stdin;
  }

  /**
   * Moves output and stdin until the channel closes (true) or {@code limitMs} pass (false).
   *
   * @throws ConnectionException when the connection broke, or (with an {@link InterruptedException}
   *     as its cause) when the thread was interrupted
   */
  boolean awaitClose(long limitMs) throws ConnectionException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
    long idle = 1;
    while (true) {
      // both, every time: a full stdout must not wait for stdin to be fed
      boolean fed = feed();
      boolean drained = drain();
      boolean moved = fed || drained;
      if (!cmd.isOpen()) {
        drain();
        throwIfBroken();
        return true;
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new ConnectionException("interrupted", new InterruptedException());
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) return false;
      if (moved) {
        idle = 1;
        continue;
      }
      try {
        cmd.join(Math.min(idle, left), TimeUnit.MILLISECONDS);
        drain();
        return true;
      } catch (ConnectionException e) {
        if (!SshFailures.has(e, TimeoutException.class)) {
          if (!exited()) throw e;
          drain(); // the exit status came before the connection broke: the command's result stands
          return true;
        }
      }
      idle = Math.min(idle * 2, MAX_IDLE_MS);
    }
  }

  /**
   * A channel is also "not open" when the connection under it broke: sshj then closes it with the
   * error attached. Without an exit status that is a lost connection, not a command that ended.
   */
  private void throwIfBroken() throws ConnectionException {
    if (exited()) return;
    try {
      cmd.join(
          1,
          TimeUnit.MILLISECONDS); // returns at once when closed cleanly, throws the error if broken
    } catch (ConnectionException e) {
      if (!SshFailures.has(e, TimeoutException.class)) throw e;
      // we asked to close and the host has not confirmed yet: closed from our side
    }
  }

  private boolean exited() {
    return cmd.getExitStatus() != null || cmd.getExitSignal() != null;
  }

  /** Takes what has arrived on stdout and stderr; true if anything did. Never blocks. */
  boolean drain() {
    boolean out = move(stdout, outSink);
    boolean err = move(stderr, errSink);
    return out || err;
  }

  private boolean move(InputStream in, OutputStream sink) {
    boolean moved = false;
    try {
      int n;
      while ((n = in.available()) > 0) {
        int read = in.read(buf, 0, Math.min(n, buf.length));
        if (read <= 0) break;
        sink.write(buf, 0, read);
        moved = true;
      }
    } catch (IOException ignored) {
      // the channel closed or the connection broke; the caller reports that
    }
    return moved;
  }

  /**
   * Sends the next part of stdin that fits in the host's window, and EOF after the last; true if it
   * sent anything. A command that never reads its input leaves the rest unsent, as a full pipe
   * would.
   */
  private boolean feed() {
    if (stdinDone) return false;
    OutputStream in = cmd.getOutputStream();
    try {
      if (stdinSent < stdin.length) {
        long window = cmd.getRemoteWinSize();
        if (window <= 0) return false;
        int n = (int) Math.min(Math.min(window, CHUNK), stdin.length - stdinSent);
        in.write(stdin, stdinSent, n);
        in.flush(); // at most the window: sshj sends it without waiting for the host
        stdinSent += n;
        if (stdinSent < stdin.length) return true;
      }
      stdinDone = true;
      in.close(); // EOF
      return true;
    } catch (IOException e) {
      stdinDone = true; // the command closed its input early; its exit code tells the story
      return false;
    }
  }

  /**
   * Takes what is left and closes the sinks (a last stderr line without a newline is handed on).
   */
  void finish() {
    drain();
    if (sinksClosed) return;
    sinksClosed = true;
    try {
      outSink.close();
      errSink.close();
    } catch (IOException ignored) {
      // in-memory sinks
    }
  }
}
