package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeoutException;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.transport.TransportException;
import org.junit.jupiter.api.Test;

/** How a closed channel is told apart from a broken connection (sshj closes both kinds). */
class ChannelIoTest {

  @Test
  void aChannelClosedCleanlyEndsTheWaitWithItsOutput() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChannelIo io = new ChannelIo(command(false, 0, null), null, out, new ByteArrayOutputStream());

    assertThat(io.awaitClose(1000)).isTrue();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("partial output");
  }

  @Test
  void aChannelClosedByALostConnectionWithoutExitStatusIsALoss() {
    ConnectionException broken =
        new ConnectionException("broken", new TransportException("Broken transport"));
    ChannelIo io =
        new ChannelIo(
            command(false, null, broken),
            null,
            new ByteArrayOutputStream(),
            new ByteArrayOutputStream());

    assertThatThrownBy(() -> io.awaitClose(1000)).isSameAs(broken);
  }

  @Test
  void aLossWhileWaitingWithoutExitStatusIsALoss() {
    ConnectionException broken =
        new ConnectionException("broken", new TransportException("Broken transport"));
    ChannelIo io =
        new ChannelIo(
            command(true, null, broken),
            null,
            new ByteArrayOutputStream(),
            new ByteArrayOutputStream());

    assertThatThrownBy(() -> io.awaitClose(1000)).isSameAs(broken);
  }

  @Test
  void anExitStatusThatArrivedBeforeTheLossStands() throws Exception {
    ConnectionException broken =
        new ConnectionException("broken", new TransportException("Broken transport"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChannelIo io = new ChannelIo(command(false, 3, broken), null, out, new ByteArrayOutputStream());

    assertThat(io.awaitClose(1000)).isTrue();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("partial output");
  }

  @Test
  void aQuietOpenChannelRunsIntoTheLimit() throws Exception {
    ConnectionException quiet =
        new ConnectionException("timeout", new TimeoutException("Timeout expired"));
    ChannelIo io =
        new ChannelIo(
            command(true, null, quiet),
            null,
            new ByteArrayOutputStream(),
            new ByteArrayOutputStream());

    assertThat(io.awaitClose(50)).isFalse();
  }

  /**
   * A command channel as sshj leaves it: {@code open} or not, the exit status, and what {@code
   * join} throws (null: it returns, the channel closed cleanly).
   */
  private static Session.Command command(
      boolean open, Integer exitStatus, ConnectionException joinThrows) {
    ByteArrayInputStream stdout =
        new ByteArrayInputStream("partial output".getBytes(StandardCharsets.UTF_8));
    ByteArrayInputStream stderr = new ByteArrayInputStream(new byte[0]);
    ByteArrayOutputStream stdin = new ByteArrayOutputStream();
    return (Session.Command)
        Proxy.newProxyInstance(
            ChannelIoTest.class.getClassLoader(),
            new Class<?>[] {Session.Command.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "isOpen" -> {
                  return open;
                }
                case "getInputStream" -> {
                  return stdout;
                }
                case "getErrorStream" -> {
                  return stderr;
                }
                case "getOutputStream" -> {
                  return stdin;
                }
                case "getRemoteWinSize" -> {
                  return 1024L;
                }
                case "getExitStatus" -> {
                  return exitStatus;
                }
                case "getExitSignal" -> {
                  return null;
                }
                case "join" -> {
                  if (joinThrows != null) throw joinThrows;
                  return null;
                }
                default -> throw new UnsupportedOperationException(method.getName());
              }
            });
  }
}
