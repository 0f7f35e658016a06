package io.runbook.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Lets a remote command tell us its process group without touching its output: the command line
 * starts with {@link #PREFIX} (the login shell prints {@code $$}, which is its process group
 * because sshd made it a session leader), and this filter takes that line out of stderr on its way
 * to the {@link TailBuffer}. A time-out then kills the whole group as the become user, which SSH's
 * own signal (sent as the login user) cannot do to processes that sudo started as root.
 */
final class ProcessGroupMarker extends OutputStream {
  private static final String TAG = "runbook-pgid=";

  /** Put in front of the command line. */
  static final String PREFIX = "echo " + TAG + "$$ >&2; ";

  /** A login script that chatters on stderr may come first; look no further than this. */
  private static final int SCAN_LIMIT = 4096;

  private final OutputStream sink;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private int scanned;
  private boolean passThrough;
  private volatile long pgid = -1;

  ProcessGroupMarker(OutputStream sink) {
    this.sink = sink;
  }

  /** The remote process group, or -1 if the marker has not (yet) been seen. */
  long pgid() {
    return pgid;
  }

  @Override
  public void write(int b) throws IOException {
    if (passThrough) {
      sink.write(b);
      return;
    }
    line.write(b);
    if (b != '\n' && ++scanned < SCAN_LIMIT) return;
    String text = line.toString(StandardCharsets.UTF_8).strip();
    if (text.startsWith(TAG)) {
      try {
        pgid = Long.parseLong(text.substring(TAG.length()));
      } catch (NumberFormatException ignored) {
        // not our line after all; it stays out of the output anyway
      }
      passThrough = true;
    } else {
      line.writeTo(sink);
      passThrough = scanned >= SCAN_LIMIT;
    }
    line.reset();
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    int i = off;
    while (!passThrough && i < off + len) write(b[i++]);
    if (i < off + len) sink.write(b, i, off + len - i);
  }

  @Override
  public void flush() throws IOException {
    sink.flush();
  }

  /** Hands on a last line that ended without a newline. */
  @Override
  public void close() throws IOException {
    if (!passThrough && line.size() > 0) line.writeTo(sink);
    line.reset();
    passThrough = true;
    sink.close();
  }
}
