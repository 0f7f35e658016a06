package io.runbook.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A host that must never be contacted: a real listening socket on loopback that counts every connection.
 * Tests of input errors point their inventory at it to prove that nothing reached a host before the
 * input was refused. The port is the socket's own, bound by the OS and kept open for the whole test.
 */
public final class SilentHost implements AutoCloseable {
  private final ServerSocket socket;
  private final AtomicInteger connections = new AtomicInteger();

  private SilentHost(ServerSocket socket) {
    this.socket = socket;
  }

  public static SilentHost listen() throws IOException {
    SilentHost h = new SilentHost(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread t = new Thread(() -> {
      while (!h.socket.isClosed()) {
        try (Socket s = h.socket.accept()) {
          h.connections.incrementAndGet();
        } catch (IOException e) {
          return;
        }
      }
    }, "silent-host");
    t.setDaemon(true);
    t.start();
    return h;
  }

  public int port() {
    return socket.getLocalPort();
  }

  /** How many connections it has seen: 0 is the point. */
  public int connections() {
    return connections.get();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
