package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/**
 * A TCP port the OS chose for a rehearsal host's service, held bound on this machine (the daemon's,
 * whose network a Docker rehearsal host shares) until that service is about to bind it. The service
 * runs in another container on the host network, so the socket itself cannot be handed over:
 * holding it keeps other programs' bind(0) and outgoing connections off the port while the copy is
 * seeded and restored, and the port is let go only right before the rehearsal's start command, not
 * when it is offered.
 */
final class PortReservation implements AutoCloseable {
  private final ServerSocket socket;

  private PortReservation(ServerSocket socket) {
    this.socket = socket;
  }

  /** Binds a port the OS picks, on every address (a service may listen on any of them). */
  static PortReservation take() {
    try {
      return new PortReservation(new ServerSocket(0, 1));
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED, "cannot find a free port for a rehearsal host: " + e.getMessage());
    }
  }

  int port() {
    return socket.getLocalPort();
  }

  /** Lets the port go, for the service given it; again does nothing. */
  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
