package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.testing.Fleet;
import io.runbook.testing.SshHost;
import io.runbook.testing.TestKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SshTransport} against real OpenSSH servers. h1 serves the ordinary tests, h2 the host-key
 * tests, h3 the tests that break the host (pause, dropped connections).
 */
class SshTransportIT {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  @RegisterExtension private static final Fleet fleet = Fleet.of(3);
  private static SshTransport h1;

  @TempDir Path tmp;

  @BeforeAll
  static void startFleet() {
    h1 =
        SshTransport.connect(settings(fleet.host(0), fleet.knownHostsFile(), HostKeyPolicy.STRICT));
  }

  @AfterAll
  static void stopFleet() {
    if (h1 != null) h1.close();
  }

  private static SshSettings settings(SshHost host, Path knownHosts, HostKeyPolicy policy) {
    return new SshSettings(
        host.name(),
        host.host(),
        host.port(),
        host.user(),
        host.privateKey(),
        knownHosts,
        policy,
        CONNECT_TIMEOUT);
  }

  private static ExecResult run(Transport t, String command) {
    return t.exec(ExecRequest.builder(command).timeout(Duration.ofSeconds(30)).build());
  }

  @Test
  void forwardsAUnixSocketOfTheHostToAPrivateLocalSocket() throws Exception {
    // An echo server on a unix socket of the host stands in for the Docker daemon: what it reads
    // until the client's half-close, it sends back upper-cased.
    String server =
        """
        import socket,os
        p='/tmp/echo.sock'
        s=socket.socket(socket.AF_UNIX); s.bind(p); s.listen(1)
        c,_=s.accept(); d=b''
        while True:
          b=c.recv(65536)
          if not b: break
          d+=b
        c.sendall(d.upper()); c.close()
        """;
    try (SshTransport t =
        SshTransport.connect(
            settings(fleet.host(1), fleet.knownHostsFile(), HostKeyPolicy.STRICT))) {
      ExecResult started =
          t.exec(
              ExecRequest.builder(
                      "rm -f /tmp/echo.sock; cat > /tmp/echo.py; (python3 /tmp/echo.py >/dev/null 2>&1 &);"
                          + " for i in $(seq 100); do [ -S /tmp/echo.sock ] && exit 0; sleep 0.1; done; exit 1")
                  .stdin(server.getBytes(StandardCharsets.UTF_8))
                  .timeout(Duration.ofSeconds(30))
                  .build());
      assertThat(started.exitCode()).as(started.stderrText()).isZero();

      URI uri = t.dockerHost("/tmp/echo.sock");
      Path local = Path.of(uri.getPath());
      assertThat(uri.getScheme()).isEqualTo("unix");
      // Whoever reaches this socket has the host user's Docker access: only our user may enter its
      // directory.
      assertThat(Files.getPosixFilePermissions(local.getParent()))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));

      byte[] payload = "ping ".repeat(50_000).getBytes(StandardCharsets.UTF_8); // beyond one window
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(local))) {
        ByteBuffer out = ByteBuffer.wrap(payload);
        while (out.hasRemaining()) c.write(out);
        c.shutdownOutput();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(65536);
        while (c.read(in) >= 0) {
          got.write(in.array(), 0, in.position());
          in.clear();
        }
        assertThat(got.toString(StandardCharsets.UTF_8)).isEqualTo("PING ".repeat(50_000));
      }
      t.close();
      assertThat(local.getParent()).as("removed with the transport").doesNotExist();
    }
  }

  // ---- connection limit

  @Test
  void theConnectionLimitParksAnIdleConnectionNeverABusyOne() throws Exception {
    SshConnectionLimit limit = SshConnectionLimit.of(2);
    SshHost h0 = fleet.host(0);
    h0.exec("rm", "-f", "/tmp/limit-busy");
    try (SshTransport busy =
            SshTransport.connect(
                settings(h0, fleet.knownHostsFile(), HostKeyPolicy.STRICT), limit);
        SshTransport idle =
            SshTransport.connect(
                settings(fleet.host(1), fleet.knownHostsFile(), HostKeyPolicy.STRICT), limit)) {
      String idleFirst = run(idle, "echo $SSH_CONNECTION").stdoutText();
      run(busy, "true"); // 'idle' is now the least recently used, 'busy' the most
      CompletableFuture<ExecResult> slow =
          CompletableFuture.supplyAsync(
              () ->
                  busy.exec(
                      ExecRequest.builder("touch /tmp/limit-busy; sleep 2; echo busy-done")
                          .timeout(Duration.ofSeconds(20))
                          .build()));
      for (int i = 0;
          i < 200 && !h0.exec("sh", "-c", "test -e /tmp/limit-busy && echo yes").contains("yes");
          i++) sleep(50);

      try (SshTransport third =
          SshTransport.connect(
              settings(fleet.host(2), fleet.knownHostsFile(), HostKeyPolicy.STRICT), limit)) {
        assertThat(limit.openNow()).as("the limit holds").isEqualTo(2);
        assertThat(limit.parked()).as("one idle connection made room").isEqualTo(1);
        assertThat(run(third, "echo third").stdoutText()).isEqualTo("third\n");
        assertThat(slow.get().stdoutText())
            .as("the busy command was not cut")
            .isEqualTo("busy-done\n");
        // The parked transport reconnects at its next command: a new connection (another client
        // port).
        assertThat(run(idle, "echo $SSH_CONNECTION").stdoutText())
            .isNotBlank()
            .isNotEqualTo(idleFirst);
        assertThat(limit.openNow()).isEqualTo(2);
        assertThat(limit.parked()).isEqualTo(2);
      }
    }
  }

  @Test
  void aConnectionForwardingASocketIsNeverParked() {
    SshConnectionLimit limit = SshConnectionLimit.of(1);
    try (SshTransport forwarding =
            SshTransport.connect(
                settings(fleet.host(0), fleet.knownHostsFile(), HostKeyPolicy.STRICT), limit);
        SshTransport other =
            SshTransport.connect(
                settings(fleet.host(1), fleet.knownHostsFile(), HostKeyPolicy.STRICT), limit)) {
      assertThat(limit.parked()).as("an idle connection made room").isEqualTo(1);
      forwarding.dockerHost("/tmp/nothing-listens-here.sock");
      assertThat(run(forwarding, "echo forwarding").stdoutText())
          .isEqualTo("forwarding\n"); // parks 'other'
      assertThat(limit.parked()).isEqualTo(2);
      assertThat(run(other, "echo other").stdoutText())
          .as("beyond the limit rather than waiting")
          .isEqualTo("other\n");
      assertThat(limit.parked()).as("the forwarding connection stays").isEqualTo(2);
      assertThat(limit.openNow()).isEqualTo(2);
    }
  }

  @Test
  void runsCommandsAndReportsOutputAndExitCode() {
    ExecResult r = run(h1, "echo hello; echo oops >&2; exit 3");
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stdoutText()).isEqualTo("hello\n");
    assertThat(r.stderrText()).isEqualTo("oops\n");
    assertThat(r.timedOut()).isFalse();
    assertThat(run(h1, "id -un").stdoutText().strip()).isEqualTo("runbook");
  }

  @Test
  void reusesOneConnectionForAllCommands() {
    // SSH_CONNECTION names the client's port: the same port means the same TCP connection.
    String first = run(h1, "echo $SSH_CONNECTION").stdoutText();
    String second = run(h1, "echo $SSH_CONNECTION").stdoutText();
    assertThat(first).isNotBlank().isEqualTo(second);
  }

  @Test
  void feedsStdinThenEof() {
    byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
    ExecResult r = h1.exec(ExecRequest.builder("cat; echo done").stdin(input).build());
    assertThat(r.stdoutText()).isEqualTo("line one\nline two\ndone\n");
    assertThat(run(h1, "cat").stdoutText()).as("no stdin is an immediate EOF").isEmpty();
  }

  @Test
  void passesAwkwardArgumentsThroughUnchanged() {
    List<String> args =
        List.of(
            "it's",
            "two words",
            "$HOME",
            "$(id)",
            "`id`",
            "back\\slash",
            "\"dq\"",
            "*",
            "",
            "semi;colon",
            "new\nline",
            "ünïcødé");
    List<String> argv = new ArrayList<>(List.of("printf", "[%s]\\n"));
    argv.addAll(args);
    ExecResult r = run(h1, Shell.join(argv));
    StringBuilder expected = new StringBuilder();
    args.forEach(a -> expected.append('[').append(a).append("]\n"));
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdoutText()).isEqualTo(expected.toString());
  }

  @Test
  void passesEnvironmentAndDirectory() {
    ExecResult r =
        h1.exec(
            ExecRequest.builder("pwd; echo \"$GREETING\"")
                .chdir("/tmp")
                .env(Map.of("GREETING", "hi $USER"))
                .build());
    assertThat(r.stdoutText()).isEqualTo("/tmp\nhi $USER\n");
  }

  @Test
  void uploadsAndDownloadsBinaryFilesExactly() throws Exception {
    byte[] content = new byte[1 << 20];
    new Random(42).nextBytes(content);
    h1.upload(content, "/tmp/rb-test/sub/blob.bin", "0640", Become.NONE);

    SshHost host = fleet.host(0);
    assertThat(host.sha256("/tmp/rb-test/sub/blob.bin")).isEqualTo(sha256(content));
    assertThat(host.exec("stat", "-c", "%a %U", "/tmp/rb-test/sub/blob.bin").strip())
        .isEqualTo("640 runbook");
    assertThat(h1.download("/tmp/rb-test/sub/blob.bin", Become.NONE)).isEqualTo(content);
  }

  @Test
  void becomeRunsAsRoot() {
    ExecResult r = h1.exec(ExecRequest.builder("id -u").become(Become.as("root")).build());
    assertThat(r.stdoutText().strip()).isEqualTo("0");

    h1.upload(
        "owned by root\n".getBytes(StandardCharsets.UTF_8),
        "/etc/runbook-test.conf",
        "0600",
        Become.as("root"));
    assertThat(fleet.host(0).exec("stat", "-c", "%a %U", "/etc/runbook-test.conf").strip())
        .isEqualTo("600 root");
    assertThat(h1.downloadText("/etc/runbook-test.conf", Become.as("root")))
        .isEqualTo("owned by root\n");
  }

  @Test
  void timeoutKillsTheCommandAndKeepsTheConnection() {
    long started = System.nanoTime();
    ExecResult r =
        h1.exec(
            ExecRequest.builder("echo started; sleep 30").timeout(Duration.ofSeconds(1)).build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.stdoutText()).isEqualTo("started\n");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));

    assertThat(run(h1, "echo still here").stdoutText()).isEqualTo("still here\n");
    assertThat(fleet.host(0).exec("sh", "-c", "pgrep -x sleep || true"))
        .as("sleep was killed")
        .isEmpty();
  }

  @Test
  void timeoutKillsACommandRunWithBecome() {
    ExecResult r =
        h1.exec(
            ExecRequest.builder("sleep 31")
                .become(Become.as("root"))
                .timeout(Duration.ofSeconds(1))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(run(h1, "echo ok").stdoutText()).isEqualTo("ok\n");
    assertThat(fleet.host(0).exec("sh", "-c", "sleep 1; pgrep -x sleep || true"))
        .as("sleep was killed")
        .isEmpty();
  }

  @Test
  void keepsOnlyTheTailOfLongOutput() {
    ExecResult r = h1.exec(ExecRequest.builder("seq 1 100000").maxOutput(16).build());
    assertThat(r.stdoutText()).isEqualTo("98\n99999\n100000\n");
    assertThat(r.stdoutTotal()).isEqualTo(588895);
  }

  @Test
  void streamsMoreThanBothWindowsBothWaysWithoutThreads() throws Exception {
    // 6 MiB in, and 3.4 MB of output written before the command reads any input: more than the SSH
    // window in each direction (2 MiB), so it only finishes if output is taken while stdin is still
    // sent.
    byte[] input = new byte[6 << 20];
    new Random(1).nextBytes(input);
    Set<String> started = ConcurrentHashMap.newKeySet();
    Set<Long> before = new HashSet<>();
    Thread.getAllStackTraces().keySet().forEach(t -> before.add(t.getId()));
    AtomicBoolean running = new AtomicBoolean(true);
    Thread sampler =
        new Thread(
            () -> {
              while (running.get()) {
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                  if (!before.contains(t.getId()) && t.getName().startsWith("ssh"))
                    started.add(t.getName());
                }
                sleep(1);
              }
            });
    sampler.start();
    ExecResult r;
    try {
      r =
          h1.exec(
              ExecRequest.builder("seq 1 500000; sha256sum | cut -d' ' -f1 >&2; echo tail")
                  .stdin(input)
                  .maxOutput(128)
                  .timeout(Duration.ofSeconds(60))
                  .build());
    } finally {
      running.set(false);
      sampler.join();
    }
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdoutTotal()).isEqualTo(3388895 + 5);
    assertThat(r.stdoutText()).endsWith("500000\ntail\n");
    assertThat(r.stderrText().strip()).isEqualTo(sha256(input));
    assertThat(started).as("threads started while the command ran").isEmpty();
  }

  @Test
  void aCommandThatNeverReadsItsInputStillFinishes() {
    byte[] input = new byte[8 << 20];
    long started = System.nanoTime();
    ExecResult r =
        h1.exec(
            ExecRequest.builder("echo ignored input; exit 4")
                .stdin(input)
                .timeout(Duration.ofSeconds(30))
                .build());
    assertThat(r.exitCode()).isEqualTo(4);
    assertThat(r.stdoutText()).isEqualTo("ignored input\n");
    assertThat(r.timedOut()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(run(h1, "echo next").stdoutText()).isEqualTo("next\n");
  }

  @Test
  void keepsALastLineWithoutNewlineAndTheExitSignal() {
    ExecResult r = run(h1, "printf 'no newline' >&2; printf out");
    assertThat(r.stderrText()).isEqualTo("no newline");
    assertThat(r.stdoutText()).isEqualTo("out");
    assertThat(run(h1, "kill -TERM $$").exitCode()).isEqualTo(143);
  }

  // ---- host keys

  @Test
  void unknownHostKeyIsRefusedUnderStrict() throws IOException {
    SshHost h2 = fleet.host(1);
    Path knownHosts =
        Files.writeString(tmp.resolve("known_hosts"), fleet.host(0).knownHostsLine() + "\n");
    assertThatThrownBy(() -> SshTransport.connect(settings(h2, knownHosts, HostKeyPolicy.STRICT)))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("is not known")
        .hasMessageContaining("SHA256:")
        .hasMessageContaining("ssh-keyscan -p " + h2.port() + " 127.0.0.1 >> " + knownHosts)
        .hasMessageContaining("--accept-new-host-keys");
  }

  @Test
  void acceptNewRecordsUnknownKeysButRefusesChangedOnes() throws IOException {
    SshHost h2 = fleet.host(1);
    Path knownHosts = tmp.resolve("fresh/.ssh/known_hosts");
    try (SshTransport t =
        SshTransport.connect(settings(h2, knownHosts, HostKeyPolicy.ACCEPT_NEW))) {
      assertThat(run(t, "echo hi").stdoutText()).isEqualTo("hi\n");
    }
    String recorded = Files.readString(knownHosts);
    assertThat(recorded).startsWith("[127.0.0.1]:" + h2.port() + " ");

    // Now known: STRICT accepts it.
    try (SshTransport t = SshTransport.connect(settings(h2, knownHosts, HostKeyPolicy.STRICT))) {
      assertThat(run(t, "echo again").stdoutText()).isEqualTo("again\n");
    }

    // Another host's key under h2's name: a changed key, refused even under ACCEPT_NEW.
    String[] otherKey = fleet.host(0).knownHostsLine().split(" ", -1);
    Files.writeString(
        knownHosts, "[127.0.0.1]:" + h2.port() + " " + otherKey[1] + " " + otherKey[2] + "\n");
    assertThatThrownBy(
            () -> SshTransport.connect(settings(h2, knownHosts, HostKeyPolicy.ACCEPT_NEW)))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("HOST KEY CHANGED")
        .hasMessageContaining("ssh-keygen -R '[127.0.0.1]:" + h2.port() + "' -f " + knownHosts);
    assertThat(Files.readAllLines(knownHosts)).hasSize(1);
  }

  // ---- login and connection failures

  @Test
  void wrongPrivateKeyIsRefusedWithTheUserAndKeyNamed() {
    SshHost h2 = fleet.host(1);
    TestKeys stranger = TestKeys.generate(tmp, "stranger");
    SshSettings s =
        new SshSettings(
            h2.name(),
            h2.host(),
            h2.port(),
            h2.user(),
            stranger.privateKey(),
            fleet.knownHostsFile(),
            HostKeyPolicy.STRICT,
            CONNECT_TIMEOUT);
    assertThatThrownBy(() -> SshTransport.connect(s))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("refused public-key login for user 'runbook'")
        .hasMessageContaining(stranger.privateKey().toString())
        .hasMessageContaining("authorized_keys");
  }

  @Test
  void missingKeyFileIsReportedBeforeConnecting() {
    SshHost h2 = fleet.host(1);
    Path missing = tmp.resolve("no-such-key");
    SshSettings s =
        new SshSettings(
            h2.name(),
            h2.host(),
            h2.port(),
            h2.user(),
            missing,
            fleet.knownHostsFile(),
            HostKeyPolicy.STRICT,
            CONNECT_TIMEOUT);
    assertThatThrownBy(() -> SshTransport.connect(s))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("private key " + missing + " does not exist")
        .hasMessageContaining("ansible_ssh_private_key_file");
  }

  @Test
  void closedPortIsReportedQuickly() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    SshSettings s =
        new SshSettings(
            "ghost",
            "127.0.0.1",
            port,
            "runbook",
            fleet.privateKey(),
            fleet.knownHostsFile(),
            HostKeyPolicy.STRICT,
            CONNECT_TIMEOUT);
    long started = System.nanoTime();
    assertThatThrownBy(() -> SshTransport.connect(s))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("connection refused by 127.0.0.1:" + port)
        .hasMessageContaining("ansible_host and ansible_port");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(CONNECT_TIMEOUT);
  }

  @Test
  void silentServerFailsWithinTheConnectTimeout() throws Exception {
    // Accepts TCP and never speaks, like a frozen host behind a live network stack.
    try (ServerSocket silent = new ServerSocket(0)) {
      CompletableFuture<Socket> accepted =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return silent.accept();
                } catch (IOException e) {
                  return null;
                }
              });
      SshSettings s =
          new SshSettings(
              "mute",
              "127.0.0.1",
              silent.getLocalPort(),
              "runbook",
              fleet.privateKey(),
              fleet.knownHostsFile(),
              HostKeyPolicy.STRICT,
              Duration.ofSeconds(2));
      long started = System.nanoTime();
      assertThatThrownBy(() -> SshTransport.connect(s))
          .isInstanceOf(TransportException.class)
          .hasMessageContaining("did not answer within 2 s");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      Socket socket = accepted.get(1, TimeUnit.SECONDS);
      if (socket != null) socket.close();
    }
  }

  // ---- broken hosts

  @Test
  void frozenHostFailsTheCommandThenReconnectsWhenBack() {
    SshHost h3 = fleet.host(2);
    try (SshTransport t =
        SshTransport.connect(settings(h3, fleet.knownHostsFile(), HostKeyPolicy.STRICT))) {
      assertThat(run(t, "echo before").stdoutText()).isEqualTo("before\n");
      CompletableFuture<Void> freeze =
          CompletableFuture.runAsync(
              () -> {
                sleep(1000);
                h3.pause();
              });
      long started = System.nanoTime();
      try {
        assertThatThrownBy(() -> t.exec(sleep30(Duration.ofSeconds(25))))
            .isInstanceOf(TransportException.class)
            .hasMessageContaining("lost the connection");
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .isLessThan(Duration.ofSeconds(20));
      } finally {
        freeze.join();
        h3.unpause();
      }
      assertThat(run(t, "echo after").stdoutText()).isEqualTo("after\n");
    }
  }

  @Test
  void timeoutOnAFrozenHostFailsInsteadOfHanging() {
    SshHost h3 = fleet.host(2);
    try (SshTransport t =
        SshTransport.connect(settings(h3, fleet.knownHostsFile(), HostKeyPolicy.STRICT))) {
      assertThat(run(t, "echo before").stdoutText()).isEqualTo("before\n");
      CompletableFuture<Void> freeze =
          CompletableFuture.runAsync(
              () -> {
                sleep(500);
                h3.pause();
              });
      long started = System.nanoTime();
      try {
        assertThatThrownBy(() -> t.exec(sleep30(Duration.ofSeconds(2))))
            .isInstanceOf(TransportException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .isLessThan(Duration.ofSeconds(10));
      } finally {
        freeze.join();
        h3.unpause();
      }
      assertThat(run(t, "echo after").stdoutText()).isEqualTo("after\n");
    }
  }

  @Test
  void droppedConnectionIsReopenedByTheNextCommand() {
    SshHost h3 = fleet.host(2);
    try (SshTransport t =
        SshTransport.connect(settings(h3, fleet.knownHostsFile(), HostKeyPolicy.STRICT))) {
      String before = run(t, "echo $SSH_CONNECTION").stdoutText();
      // Kill the server side of our connection, as a network blip or an sshd restart would.
      h3.exec("pkill", "-f", "sshd: runbook");
      sleep(500);
      String after = run(t, "echo $SSH_CONNECTION").stdoutText();
      assertThat(after).isNotBlank().isNotEqualTo(before);
    }
  }

  @Test
  void aConnectionKilledUnderARunningCommandIsAlwaysReportedAsLost() {
    SshHost h3 = fleet.host(2);
    try (SshTransport t =
        SshTransport.connect(settings(h3, fleet.knownHostsFile(), HostKeyPolicy.STRICT))) {
      // sshj closes the channel of a broken connection too; at any instant of the loss the command
      // must
      // fail as "lost", never end with a made-up exit code, and the next command must reconnect.
      for (int i = 0; i < 8; i++) {
        long delay = 300 + 37L * i;
        CompletableFuture<Void> cut =
            CompletableFuture.runAsync(
                () -> {
                  sleep(delay);
                  h3.exec("pkill", "-KILL", "-f", "sshd: runbook");
                });
        try {
          assertThatThrownBy(() -> t.exec(sleep30(Duration.ofSeconds(20))))
              .as("kill after %d ms", delay)
              .isInstanceOf(TransportException.class)
              .hasMessageContaining("lost the connection while a command was running");
        } finally {
          cut.join();
        }
        assertThat(run(t, "echo back").stdoutText()).isEqualTo("back\n");
      }
    }
  }

  private static ExecRequest sleep30(Duration timeout) {
    return ExecRequest.builder("sleep 30").timeout(timeout).build();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String sha256(byte[] content) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
  }
}
