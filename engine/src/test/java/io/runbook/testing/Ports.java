package io.runbook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * TCP ports for servers that another process opens (sshd in a container, {@code docker run -p},
 * compose).
 *
 * <p>Binding port 0 and closing the socket before handing the number on races: that port is in the
 * kernel's ephemeral range, which it hands to any outgoing connection or other port-0 bind in the
 * meantime, and the copies of that helper in eight test JVMs on this machine race each other too. A
 * port from {@link #reserve()} is outside the ephemeral range (the kernel never hands it out by
 * itself), is claimed by a file that every test JVM using this class respects (for the JVM's life,
 * as the server that gets it lives that long at most), and is held bound by this JVM until {@link
 * Reserved#release()}, right before the server that is to listen on it starts. A server in this JVM
 * binds port 0 itself and reads its port from the open socket instead (see {@link SilentHost}).
 */
public final class Ports {
  private static final Path CLAIMS =
      Path.of(System.getProperty("java.io.tmpdir"), "runbook-test-ports");
  private static final int LOW = 20000;

  private Ports() {}

  /** A port held bound (on every address) by this JVM until {@link Reserved#release()}. */
  public static Reserved reserve() {
    int[] ephemeral = ephemeralRange();
    int high = Math.min(ephemeral[0], 65536);
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOW, high);
      if (port >= ephemeral[0] && port <= ephemeral[1]) continue;
      if (!claim(port)) continue;
      try {
        ServerSocket held = new ServerSocket();
        held.setReuseAddress(false);
        held.bind(new InetSocketAddress(port));
        return new Reserved(port, held);
      } catch (IOException inUse) {
        // something outside the tests listens there: the claim stays, the port is skipped
      }
    }
    throw new IllegalStateException(
        "no free TCP port between " + LOW + " and " + high + " after 1000 tries");
  }

  /** A reserved port, released at once: for a server that starts right away. */
  public static int free() {
    return reserve().release();
  }

  /** The kernel's ephemeral port range, from /proc (Linux's default when it cannot be read). */
  static int[] ephemeralRange() {
    try {
      String[] parts =
          Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .strip()
              .split("\\s+", -1);
      return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    } catch (IOException | RuntimeException e) {
      return new int[] {32768, 60999};
    }
  }

  private static boolean claim(int port) {
    try {
      Files.createDirectories(CLAIMS);
      Path file = Files.createFile(CLAIMS.resolve(Integer.toString(port)));
      file.toFile().deleteOnExit();
      return true;
    } catch (FileAlreadyExistsException taken) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot claim a test port in " + CLAIMS, e);
    }
  }

  /** A port this JVM holds until the server that is to listen on it starts. */
  public static final class Reserved {
    private final int port;
    private final ServerSocket held;

    private Reserved(int port, ServerSocket held) {
      this.port = port;
      this.held = held;
    }

    public int port() {
      return port;
    }

    /**
     * Closes the holding socket: call right before the server that listens on {@link #port()}
     * starts.
     */
    public int release() {
      try {
        held.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return port;
    }
  }
}
