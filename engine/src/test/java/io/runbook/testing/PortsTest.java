package io.runbook.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {

  @Test
  void aReservedPortCannotBeTakenUntilReleasedThenItCan() throws Exception {
    Ports.Reserved r = Ports.reserve();
    try (ServerSocket other = new ServerSocket()) {
      assertThatThrownBy(
              () -> other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), r.port())))
          .isInstanceOf(IOException.class);
    }
    int port = r.release();
    try (ServerSocket server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(server.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void portsAreOutsideTheKernelsEphemeralRangeSoNoPortZeroBindOrConnectionTakesThem() {
    int[] range = Ports.ephemeralRange();
    for (int i = 0; i < 20; i++) {
      int port = Ports.free();
      assertThat(port < range[0] || port > range[1])
          .as(port + " outside " + range[0] + "-" + range[1])
          .isTrue();
      assertThat(port).isBetween(1024, 65535);
    }
  }

  @Test
  void aPortIsHandedOutOnceEvenAfterItsRelease() {
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) assertThat(seen.add(Ports.free())).isTrue();
  }
}
