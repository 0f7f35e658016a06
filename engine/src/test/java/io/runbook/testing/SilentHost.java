package io.runbook.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A host that must never be contacted: a real listening socket on loopback that counts every
 * connection. Tests of input errors point their inventory at it to prove that nothing reached a
 * host before the input was refused. The port is the socket's own, bound by the OS and kept open
 * for the whole test.
 *
 * <p>Register it per test: {@code @RegisterExtension final SilentHost host = new SilentHost();} —
 * it listens before each test and closes after it.
 */
public final class SilentHost implements BeforeEachCallback, AfterEachCallback {
  private ServerSocket socket;
  private final AtomicInteger connections = new AtomicInteger();

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    socket = s;
    connections.set(0);
    Thread t =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                try (Socket c = s.accept()) {
                  connections.incrementAndGet();
                } catch (IOException e) {
                  return;
                }
              }
            },
            "silent-host");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    socket.close();
  }

  public int port() {
    return socket.getLocalPort();
  }

  /** {@code DIR/inventory.yaml}: one binary-mode host, {@code web1}, that is this socket. */
  public Path inventory(Path dir) throws IOException {
    return Files.writeString(
        dir.resolve("inventory.yaml"),
        """
        all:
          hosts:
            web1:
              ansible_host: 127.0.0.1
              ansible_port: %d
              mode: binary
        """
            .formatted(port()));
  }

  /** How many connections it has seen: 0 is the point. */
  public int connections() {
    return connections.get();
  }
}
