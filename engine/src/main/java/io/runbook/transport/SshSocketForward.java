package io.runbook.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Supplier;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.connection.Connection;
import net.schmizz.sshj.connection.channel.direct.AbstractDirectChannel;

/**
 * A unix socket on the host, reachable from the controller as {@code 127.0.0.1:<port>}: each connection
 * accepted on that loopback port opens one {@code direct-streamlocal@openssh.com} channel (OpenSSH's
 * "ssh -L port:/path/to.sock") on the host's SSH connection, and bytes are pumped both ways. This is how
 * a Docker client on the controller talks to the daemon socket of a host it reaches only over SSH.
 *
 * <p>The listener accepts only loopback connections. Closing the forward stops accepting and drops the
 * channels in flight.
 */
public final class SshSocketForward implements AutoCloseable {
  private final Supplier<SSHClient> client;
  private final String socketPath;
  private final String hostDescription;
  private final ServerSocket server;
  private final Thread acceptor;
  private volatile boolean closed;

  /**
   * Starts listening on an ephemeral loopback port.
   *
   * @param client the host's live connection (reconnected by the transport if it was lost)
   */
  public SshSocketForward(Supplier<SSHClient> client, String socketPath, String hostDescription) {
    this.client = client;
    this.socketPath = socketPath;
    this.hostDescription = hostDescription;
    try {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new TransportException(hostDescription, "cannot listen on a loopback port to forward " + socketPath
          + ": " + e.getMessage(), e);
    }
    acceptor = new Thread(this::accept, "ssh-forward-" + hostDescription);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The loopback port that leads to the host's socket. */
  public int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!closed) {
      Socket local;
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

  private void serve(Socket local) {
    StreamLocalChannel channel = null;
    try (local) {
      local.setTcpNoDelay(true);
      try {
        channel = new StreamLocalChannel(client.get().getConnection(), socketPath);
        channel.open();
      } catch (IOException | RuntimeException e) {
        // The client sees a closed connection; the Docker engine turns that into a message of its own,
        // and a direct probe (see DockerEngines) names the socket and the cause.
        return;
      }
      StreamLocalChannel ch = channel;
      Thread up = new Thread(() -> pump(localIn(local), ch.getOutputStream(), true), "ssh-forward-up");
      up.setDaemon(true);
      up.start();
      pump(ch.getInputStream(), local.getOutputStream(), false);
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

  private static InputStream localIn(Socket s) {
    try {
      return s.getInputStream();
    } catch (IOException e) {
      return InputStream.nullInputStream();
    }
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
    } catch (IOException ignored) {
      // nothing left to release
    }
  }

  /** The channel OpenSSH opens to a unix socket on its side (PROTOCOL: "direct-streamlocal@openssh.com"). */
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
