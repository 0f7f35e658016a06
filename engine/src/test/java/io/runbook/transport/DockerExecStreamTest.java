package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DockerExecStream}'s side of the wire against a real unix socket playing the daemon:
 * framing, the half-close that ends stdin, and daemons that answer badly or not at all. (Against
 * the real daemon: DockerTransportIT and DockerTransportConcurrencyIT.)
 */
class DockerExecStreamTest {
  @TempDir Path dir;

  @Test
  void demultiplexesFramesSplitAnywhereAndEndsStdinWithAHalfClose() throws Exception {
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    URI host =
        serve(
            ch -> {
              readHead(ch);
              write(
                  ch,
                  """
                  HTTP/1.1 101 UPGRADED\r
                  Content-Type: application/vnd.docker.raw-stream\r
                  Connection: Upgrade\r
                  Upgrade: tcp\r
                  \r
                  """);
              // stdin until the half-close, then echo it as stdout and a note as stderr, in awkward
              // pieces
              ByteBuffer b = ByteBuffer.allocate(1024);
              while (read(ch, b) >= 0) {
                received.write(b.array(), 0, b.position());
                b.clear();
              }
              byte[] frames =
                  concat(
                      frame(1, received.toByteArray()),
                      frame(2, "note\n".getBytes(StandardCharsets.UTF_8)),
                      frame(1, new byte[0]),
                      frame(1, "!".getBytes(StandardCharsets.UTF_8)));
              for (int i = 0; i < frames.length; i += 3) {
                write(ch, Arrays.copyOfRange(frames, i, Math.min(frames.length, i + 3)));
              }
            });
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (DockerExecStream s =
        DockerExecStream.start(
            host, "abc", "hello stdin".getBytes(StandardCharsets.UTF_8), out, err, "t")) {
      assertThat(s.awaitEnd(10_000)).isTrue();
      assertThat(s.failure()).isNull();
    }
    assertThat(received.toString(StandardCharsets.UTF_8)).isEqualTo("hello stdin");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello stdin!");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("note\n");
  }

  @Test
  void aStreamCutInsideAFrameIsAFailureNotACleanEnd() throws Exception {
    URI host =
        serve(
            ch -> {
              readHead(ch);
              write(ch, "HTTP/1.1 101 UPGRADED\r\n\r\n");
              byte[] f = frame(1, "truncated".getBytes(StandardCharsets.UTF_8));
              write(ch, Arrays.copyOf(f, f.length - 3));
            });
    try (DockerExecStream s =
        DockerExecStream.start(
            host, "abc", null, new ByteArrayOutputStream(), new ByteArrayOutputStream(), "t")) {
      assertThat(s.awaitEnd(10_000)).isTrue();
      assertThat(s.failure()).hasMessageContaining("ended inside a frame");
    }
  }

  @Test
  void anErrorStatusCarriesTheDaemonsMessageWhileTheConnectionStaysOpen() throws Exception {
    String body = "{\"message\":\"No such exec instance: abc\"}";
    URI host =
        serve(
            ch -> {
              readHead(ch);
              write(
                  ch,
                  "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body);
              sleep(5_000); // keep-alive: the connection is not closed
            });
    long started = System.nanoTime();
    assertThatThrownBy(
            () ->
                DockerExecStream.start(
                    host,
                    "abc",
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream(),
                    "t"))
        .isInstanceOf(DockerExecStream.DockerApiException.class)
        .hasMessage("HTTP 404: " + body);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void aDaemonThatNeverAnswersIsGivenUpOn() throws Exception {
    URI host =
        serve(
            ch -> {
              readHead(ch);
              sleep(5_000);
            });
    long started = System.nanoTime();
    assertThatThrownBy(
            () ->
                DockerExecStream.start(
                    host,
                    "abc",
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream(),
                    "t",
                    Duration.ofMillis(300)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("did not answer exec-start within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void aRefusedSocketIsAnIoErrorAndOnlyUnixAndTcpAreSpoken() {
    assertThatThrownBy(
            () ->
                DockerExecStream.start(
                    URI.create("unix://" + dir.resolve("none.sock")),
                    "abc",
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream(),
                    "t"))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(
            () ->
                DockerExecStream.start(
                    URI.create("npipe:////./pipe/docker_engine"),
                    "abc",
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream(),
                    "t"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unix:// or tcp:// only");
  }

  // ---- a one-connection server on a real unix socket

  private interface Script {
    void run(SocketChannel ch) throws IOException;
  }

  private URI serve(Script script) throws IOException {
    Path sock = dir.resolve("d" + System.nanoTime() + ".sock");
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    Thread t =
        new Thread(
            () -> {
              try (server;
                  SocketChannel ch = server.accept()) {
                script.run(ch);
              } catch (IOException e) {
                // the client hung up: the test's assertions say whether that was right
              }
            });
    t.setDaemon(true);
    t.start();
    return URI.create("unix://" + sock);
  }

  private static void readHead(SocketChannel ch) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (!seen.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
      if (ch.read(one) < 0) throw new IOException("client hung up");
      seen.write(one.array()[0]);
      one.clear();
    }
    String head = seen.toString(StandardCharsets.ISO_8859_1);
    assertThat(head).startsWith("POST /exec/abc/start HTTP/1.1\r\n").contains("Upgrade: tcp\r\n");
    int length = Integer.parseInt(head.replaceAll("(?s).*Content-Length: (\\d+).*", "$1"));
    ByteBuffer body = ByteBuffer.allocate(length);
    while (body.hasRemaining()) {
      if (ch.read(body) < 0) throw new IOException("client hung up");
    }
    assertThat(new String(body.array(), StandardCharsets.UTF_8))
        .isEqualTo("{\"Detach\":false,\"Tty\":false}");
  }

  private static int read(SocketChannel ch, ByteBuffer b) throws IOException {
    return ch.read(b);
  }

  private static void write(SocketChannel ch, String s) throws IOException {
    write(ch, s.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static void write(SocketChannel ch, byte[] b) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) ch.write(buf);
  }

  private static byte[] frame(int stream, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
    b.put((byte) stream).put(new byte[3]).putInt(payload.length).put(payload);
    return b.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
