package io.runbook.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One attached exec-start, spoken by hand on a connection of its own: {@code POST /exec/{id}/start}
 * with {@code Upgrade: tcp}, then stdin written to the hijacked connection and ended by a
 * half-close, and the multiplexed stdout/stderr frames read by a thread of its own into the given
 * sinks.
 *
 * <p>Why not docker-java's {@code execStartCmd(..).withStdIn(..)}: over a unix socket its zerodep
 * transport cannot half-close ({@code UnixSocket.shutdownOutput} throws), so a command never sees
 * the end of its input; its socket streams come from {@code Channels.newInputStream}, so
 * interrupting any thread that happens to read one closes the connection under whoever shares it;
 * and hijacked connections live in the same pool as every other call. Here each exec has its own
 * socket, nothing but {@link #close()} ever closes it, and no thread that touches it is ever
 * interrupted by us.
 */
final class DockerExecStream implements AutoCloseable {
  private static final int HEADER_LIMIT = 16 * 1024;

  /**
   * A daemon that accepted the connection but does not answer exec-start within this is given up
   * on.
   */
  private static final Duration ANSWER = Duration.ofSeconds(30);

  private final SocketChannel channel;
  private final Thread reader;
  private volatile IOException failure;

  private DockerExecStream(
      SocketChannel channel,
      OutputStream stdout,
      OutputStream stderr,
      ByteBuffer early,
      String name) {
    this.channel = channel;
    this.reader = new Thread(() -> demux(early, stdout, stderr), "docker-exec-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts exec {@code execId} attached, feeds {@code stdin} (if not null) and then ends it, and
   * pumps the output into the sinks until the daemon ends the stream.
   *
   * @throws DockerApiException when the daemon answers with an error status (404: no such exec or
   *     container)
   * @throws IOException when the daemon cannot be reached or hangs up
   */
  static DockerExecStream start(
      URI dockerHost,
      String execId,
      byte[] stdin,
      OutputStream stdout,
      OutputStream stderr,
      String name)
      throws IOException {
    return start(dockerHost, execId, stdin, stdout, stderr, name, ANSWER);
  }

  /**
   * As {@link #start(URI, String, byte[], OutputStream, OutputStream, String)}, giving up after
   * {@code answer}.
   */
  static DockerExecStream start(
      URI dockerHost,
      String execId,
      byte[] stdin,
      OutputStream stdout,
      OutputStream stderr,
      String name,
      Duration answer)
      throws IOException {
    SocketChannel ch = open(dockerHost);
    try {
      byte[] body = "{\"Detach\":false,\"Tty\":false}".getBytes(StandardCharsets.US_ASCII);
      String head =
          "POST /exec/"
              + execId
              + "/start HTTP/1.1\r\n"
              + "Host: docker\r\n"
              + "Content-Type: application/json\r\n"
              + "Connection: Upgrade\r\n"
              + "Upgrade: tcp\r\n"
              + "Content-Length: "
              + body.length
              + "\r\n\r\n";
      writeFully(ch, head.getBytes(StandardCharsets.US_ASCII));
      writeFully(ch, body);
      // Channel reads have no time-out: a stuck daemon is noticed by closing the channel under the
      // read.
      AtomicBoolean settled = new AtomicBoolean();
      CompletableFuture.delayedExecutor(answer.toMillis(), TimeUnit.MILLISECONDS)
          .execute(
              () -> {
                if (settled.compareAndSet(false, true)) closeQuietly(ch);
              });
      ByteBuffer early = null;
      try {
        early = readResponseHead(ch);
      } catch (AsynchronousCloseException e) {
        settled.set(true); // only the watchdog closes the channel this early
      }
      if (!settled.compareAndSet(false, true)) {
        throw new IOException(
            "the Docker daemon did not answer exec-start within " + answer.toMillis() + " ms");
      }
      DockerExecStream stream = new DockerExecStream(ch, stdout, stderr, early, name);
      if (stdin != null) stream.feed(stdin, name);
      return stream;
    } catch (IOException | RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  /** Waits up to {@code millis} for the daemon to end the output; whether it did. */
  boolean awaitEnd(long millis) throws InterruptedException {
    reader.join(Math.max(1, millis));
    return !reader.isAlive();
  }

  /** What broke the stream before the daemon ended it, or null. */
  IOException failure() {
    return failure;
  }

  /** Drops the connection, which also ends the reading thread. */
  @Override
  public void close() {
    closeQuietly(channel);
  }

  private void feed(byte[] stdin, String name) {
    // Its own thread: a command may write much before it reads, and the output must keep flowing
    // meanwhile.
    Thread writer =
        new Thread(
            () -> {
              try {
                writeFully(channel, stdin);
                channel.shutdownOutput(); // the end of the command's input
              } catch (IOException e) {
                // The command stopped reading (or the stream ended): as with a pipe, the rest is
                // not delivered.
              }
            },
            "docker-exec-stdin-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  /** Reads 8-byte frame headers (stream, 0, 0, 0, big-endian length) and hands each payload on. */
  private void demux(ByteBuffer early, OutputStream stdout, OutputStream stderr) {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    buf.put(early);
    buf.flip();
    try {
      while (true) {
        if (!fill(buf, 8)) return;
        int type = buf.get() & 0xff;
        buf.position(buf.position() + 3);
        long remaining = buf.getInt() & 0xffffffffL;
        OutputStream sink =
            type == 2 ? stderr : type == 1 ? stdout : OutputStream.nullOutputStream();
        while (remaining > 0) {
          if (!buf.hasRemaining() && !fill(buf, 1))
            throw new IOException("the Docker stream ended inside a frame");
          int n = (int) Math.min(remaining, buf.remaining());
          sink.write(buf.array(), buf.arrayOffset() + buf.position(), n);
          buf.position(buf.position() + n);
          remaining -= n;
        }
      }
    } catch (IOException e) {
      if (channel.isOpen()) failure = e;
    }
  }

  /**
   * Makes at least {@code need} bytes readable in {@code buf}; false on a clean end of stream
   * before any.
   */
  private boolean fill(ByteBuffer buf, int need) throws IOException {
    while (buf.remaining() < need) {
      buf.compact();
      int n = channel.read(buf);
      buf.flip();
      if (n < 0) {
        if (buf.hasRemaining())
          throw new IOException("the Docker stream ended inside a frame header");
        return false;
      }
    }
    return true;
  }

  private static SocketChannel open(URI host) throws IOException {
    String scheme = host.getScheme() == null ? "" : host.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("unix"))
      return SocketChannel.open(UnixDomainSocketAddress.of(host.getPath()));
    if (scheme.equals("tcp") || scheme.equals("http")) {
      return SocketChannel.open(
          new InetSocketAddress(host.getHost(), host.getPort() < 0 ? 2375 : host.getPort()));
    }
    throw new IOException(
        "cannot attach to a command through DOCKER_HOST " + host + " (unix:// or tcp:// only)");
  }

  /**
   * Reads the status line and headers; what came after them (the first frames, perhaps) is
   * returned.
   *
   * @throws DockerApiException for any status but 101 (or 200, which old daemons answer) with the
   *     daemon's message
   */
  private static ByteBuffer readResponseHead(SocketChannel ch) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(HEADER_LIMIT);
    int end;
    while ((end = headEnd(buf)) < 0) {
      if (!buf.hasRemaining())
        throw new IOException("the Docker daemon sent an oversized response header");
      if (ch.read(buf) < 0)
        throw new IOException("the Docker daemon hung up before answering exec-start");
    }
    String head = new String(buf.array(), 0, end, StandardCharsets.ISO_8859_1);
    String[] status = head.split("\r\n", 2)[0].split(" ", 3);
    int code = status.length > 1 ? Integer.parseInt(status[1]) : -1;
    buf.flip();
    buf.position(end + 4);
    if (code == 101 || code == 200) {
      if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
        throw new IOException(
            "the Docker daemon answered exec-start with a chunked body; not supported");
      }
      return buf.slice();
    }
    // An error: a small JSON body {"message": "..."}, as long as Content-Length says (else up to a
    // hang-up).
    Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head);
    long want = length.find() ? Long.parseLong(length.group(1)) : HEADER_LIMIT;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(buf.array(), buf.position(), buf.remaining());
    ByteBuffer more = ByteBuffer.allocate(4096);
    while (body.size() < Math.min(want, HEADER_LIMIT) && ch.read(more) > 0) {
      body.write(more.array(), 0, more.position());
      more.clear();
    }
    throw new DockerApiException(code, body.toString(StandardCharsets.UTF_8).strip());
  }

  private static int headEnd(ByteBuffer buf) {
    for (int i = 3; i < buf.position(); i++) {
      if (buf.get(i - 3) == '\r'
          && buf.get(i - 2) == '\n'
          && buf.get(i - 1) == '\r'
          && buf.get(i) == '\n') return i - 3;
    }
    return -1;
  }

  private static void writeFully(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) ch.write(b);
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing more to release
    }
  }

  /** The daemon refused exec-start with an HTTP error status. */
  static final class DockerApiException extends IOException {
    final int status;

    DockerApiException(int status, String body) {
      super("HTTP " + status + (body.isEmpty() ? "" : ": " + body));
      this.status = status;
    }
  }
}
