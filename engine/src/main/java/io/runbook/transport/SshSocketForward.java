package io.runbook.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Supplier;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.connection.Connection;
import net.schmizz.sshj.connection.channel.direct.AbstractDirectChannel;

/**
 * A unix socket on the host, reachable from the controller as a unix socket of its own: each
 * connection accepted there opens one {@code direct-streamlocal@openssh.com} channel (OpenSSH's
 * "ssh -L local.sock:/path/to.sock") on the host's SSH connection, and bytes are pumped both ways.
 * This is how a Docker client on the controller talks to the daemon socket of a host it reaches
 * only over SSH.
 *
 * <p>Whoever can connect to the local end has the host user's Docker access, which is root on that
 * host: so not a loopback TCP port (any local user could connect to it) but a socket in a directory
 * only this process's user can enter (mode 0700), removed on close. Closing the forward stops
 * accepting and drops the channels in flight.
 */
public final class SshSocketForward implements AutoCloseable {
  private final Supplier<SSHClient> client;
  private final String socketPath;
  private final String hostDescription;
  private final Path dir;
  private final Path socket;
  private final ServerSocketChannel server;
  private final Thread acceptor;
  private volatile boolean closed;

  /**
   * Starts listening on a unix socket in a new private temporary directory.
   *
   * @param client the host's live connection (reconnected by the transport if it was lost)
   */
  public SshSocketForward(Supplier<SSHClient> client, String socketPath, String hostDescription) {
    this.client = client;
    this.socketPath = socketPath;
    this.hostDescription = hostDescription;
    try {
      dir =
          Files.createTempDirectory(
              "runbook-docker-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      socket = dir.resolve("docker.sock");
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      throw new TransportException(
          hostDescription,
          "cannot open a local socket to forward " + socketPath + ": " + e.getMessage(),
          e);
    }
    acceptor = new Thread(this::accept, "ssh-forward-" + hostDescription);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * The local socket that leads to the host's socket, as a Docker host URI ({@code unix:///...}).
   */
  public URI uri() {
    return URI.create("unix://" + socket);
  }

  private void accept() {
    while (!closed) {
      SocketChannel local;
      try {
        local = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      Thread t = new Thread(() -> serve(local), "ssh-forward-conn-" + hostDescription);
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(SocketChannel local) {
    StreamLocalChannel channel = null;
    try (local) {
      try {
        channel = new StreamLocalChannel(client.get().getConnection(), socketPath);
        channel.open();
      } catch (IOException | RuntimeException e) {
        // The client sees a closed connection; the Docker engine turns that into a message of its
        // own,
        // and a direct probe (see DockerEngines) names the socket and the cause.
        return;
      }
      StreamLocalChannel ch = channel;
      Thread up = new Thread(() -> pump(in(local), ch.getOutputStream(), true), "ssh-forward-up");
      up.setDaemon(true);
      up.start();
      pump(ch.getInputStream(), out(local), false);
      up.join(1000);
    } catch (IOException e) {
      // one connection failed; the forward stays up for the next
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException | RuntimeException ignored) {
          // already gone
        }
      }
    }
  }

  // Not Channels.newInputStream/newOutputStream: both hold the channel's blocking lock while they
  // block,
  // so a read waiting for the client would stall every write to it. A socket channel reads and
  // writes
  // from two threads at once.
  private static InputStream in(SocketChannel ch) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return len == 0 ? 0 : ch.read(ByteBuffer.wrap(b, off, len));
      }
    };
  }

  private static OutputStream out(SocketChannel ch) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) ch.write(buf);
      }
    };
  }

  private static void pump(InputStream in, OutputStream out, boolean closeOut) {
    byte[] buf = new byte[32 * 1024];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the other side went away
    } finally {
      if (closeOut) {
        try {
          out.close(); // on the channel: sends EOF, as the half-close of the local socket asked
        } catch (IOException ignored) {
          // already closed
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // nothing left to release; a leftover socket file in a private directory leads nowhere
    }
  }

  /**
   * The channel OpenSSH opens to a unix socket on its side (PROTOCOL:
   * "direct-streamlocal@openssh.com").
   */
  private static final class StreamLocalChannel extends AbstractDirectChannel {
    private final String socketPath;

    StreamLocalChannel(Connection conn, String socketPath) {
      super(conn, "direct-streamlocal@openssh.com");
      this.socketPath = socketPath;
    }

    @Override
    protected SSHPacket buildOpenReq() {
      return super.buildOpenReq()
          .putString(socketPath)
          .putString("") // reserved
          .putUInt32(0); // reserved
    }
  }
}
