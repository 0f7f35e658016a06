package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/**
 * The port a rehearsal host is offered stays bound on this machine until its service is about to
 * listen on it (issue #13: a port found free and closed at once could be taken before the copy's
 * service binds it).
 */
class PortReservationTest {

  @Test
  void noOneElseCanBindTheOfferedPortUntilItIsLetGo() throws Exception {
    PortReservation reserved = PortReservation.take();
    int port = reserved.port();
    try {
      assertThatThrownBy(() -> new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close())
          .isInstanceOf(BindException.class);
      assertThatThrownBy(() -> new ServerSocket(port).close()).isInstanceOf(BindException.class);
    } finally {
      reserved.close();
    }
    try (ServerSocket service = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(service.getLocalPort())
          .as("the service binds the port it was offered")
          .isEqualTo(port);
      assertThatCode(reserved::close).as("letting go twice").doesNotThrowAnyException();
    }
  }
}
