package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.dockerjava.api.DockerClient;
import io.runbook.RunbookException;
import io.runbook.execution.ConnectionSettings;
import io.runbook.execution.StandardConnector;
import io.runbook.inventory.Host;
import io.runbook.testing.SshHost;
import io.runbook.yaml.Location;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link DockerTransport} against a real container of the test image, through the real Docker
 * daemon.
 */
class DockerTransportIT {
  private static DockerClient docker;
  private static String container;
  private static DockerTransport t;

  @BeforeAll
  static void start() {
    SshHost.requireDockerAndImage();
    docker = DockerClients.local();
    container = "runbook-dtit-" + UUID.randomUUID().toString().substring(0, 8);
    docker
        .createContainerCmd(SshHost.IMAGE)
        .withName(container)
        .withCmd("sleep", "infinity")
        .withLabels(Map.of("io.runbook.test", "DockerTransportIT"))
        .exec();
    docker.startContainerCmd(container).exec();
    // Through the connector, as an inventory with ansible_connection: docker reaches it.
    Host host =
        new Host(
            "d1",
            Map.of(
                "ansible_connection",
                "docker",
                "ansible_host",
                container,
                "ansible_user",
                SshHost.USER),
            List.of("all"),
            Location.of("test"));
    t =
        (DockerTransport)
            new StandardConnector(new ConnectionSettings(null, false, Duration.ofSeconds(5)))
                .open(host);
  }

  @AfterAll
  static void stop() throws Exception {
    if (t != null) t.close();
    if (docker != null && container != null) {
      docker.removeContainerCmd(container).withForce(true).withRemoveVolumes(true).exec();
      docker.close();
    }
  }

  private static ExecResult run(String command) {
    return t.exec(ExecRequest.builder(command).timeout(Duration.ofSeconds(30)).build());
  }

  /** Runs as root in the container, beside the transport under test. */
  private static String root(String command) {
    try (DockerTransport r = DockerTransport.connect("root", container, "root")) {
      ExecResult res = r.exec(ExecRequest.builder(command).build());
      assertThat(res.exitCode()).as(command + ": " + res.stderrText()).isZero();
      return res.stdoutText();
    }
  }

  @Test
  void runsCommandsAsTheUserWithExitCodeAndSeparateStreams() {
    ExecResult r = run("echo hello; echo oops >&2; exit 3");
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stdoutText()).isEqualTo("hello\n");
    assertThat(r.stderrText()).isEqualTo("oops\n");
    assertThat(r.timedOut()).isFalse();
    assertThat(run("id -un").stdoutText().strip()).isEqualTo("runbook");
  }

  @Test
  void feedsStdinThenEof() {
    byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
    ExecResult r = t.exec(ExecRequest.builder("cat; echo done").stdin(input).build());
    assertThat(r.stdoutText()).isEqualTo("line one\nline two\ndone\n");
    assertThat(run("cat").stdoutText()).as("no stdin is an immediate EOF").isEmpty();
    ExecResult unread =
        t.exec(ExecRequest.builder("echo ignored").stdin(new byte[4 << 20]).build());
    assertThat(unread.stdoutText())
        .as("input the command never reads holds nothing up")
        .isEqualTo("ignored\n");
    assertThat(unread.exitCode()).isZero();
    assertThat(root("ls -a /tmp")).as("nothing left behind").doesNotContain(".runbook-");
  }

  @Test
  void passesAwkwardArgumentsEnvironmentAndDirectory() {
    List<String> args =
        List.of("it's", "two words", "$HOME", "$(id)", "back\\slash", "", "new\nline", "ünïcødé");
    List<String> argv = new ArrayList<>(List.of("printf", "[%s]\\n"));
    argv.addAll(args);
    StringBuilder expected = new StringBuilder();
    args.forEach(a -> expected.append('[').append(a).append("]\n"));
    assertThat(run(Shell.join(argv)).stdoutText()).isEqualTo(expected.toString());
    ExecResult r =
        t.exec(
            ExecRequest.builder("pwd; echo \"$GREETING\"")
                .chdir("/tmp")
                .env(Map.of("GREETING", "hi $USER"))
                .build());
    assertThat(r.stdoutText()).isEqualTo("/tmp\nhi $USER\n");
  }

  @Test
  void keepsOnlyTheTailOfBigOutputAndCountsAll() {
    ExecResult r =
        t.exec(ExecRequest.builder("seq 1 100000; seq 1 1000 >&2").maxOutput(16).build());
    assertThat(r.stdoutText()).isEqualTo("98\n99999\n100000\n");
    assertThat(r.stdoutTotal()).isEqualTo(588895);
    assertThat(r.stderrText()).endsWith("999\n1000\n");
    assertThat(r.stderrTotal()).isEqualTo(3893);
  }

  @Test
  void timeoutKillsTheWholeProcessGroup() {
    long started = System.nanoTime();
    ExecResult r =
        t.exec(
            ExecRequest.builder("echo started; (sleep 41; echo late) & sleep 42")
                .timeout(Duration.ofSeconds(1))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.exitCode()).isEqualTo(-1);
    assertThat(r.stdoutText()).isEqualTo("started\n");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
    assertThat(root("sleep 0.5; pgrep -f 'sleep 4[12]' || true"))
        .as("both sleeps were killed")
        .isEmpty();
    assertThat(run("echo still here").stdoutText()).isEqualTo("still here\n");
  }

  @Test
  void aDaemonThatKeepsTheOutputOpenDoesNotHoldTheCommand() {
    long started = System.nanoTime();
    ExecResult r = run("(sleep 44; echo late) & echo started; exit 5");
    assertThat(r.exitCode()).isEqualTo(5);
    assertThat(r.stdoutText()).isEqualTo("started\n");
    assertThat(r.timedOut()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the exit, then at most the drain")
        .isLessThan(Duration.ofSeconds(8));
    assertThat(root("pgrep -f 'sleep 4[4]' || true")).as("the daemon itself lives on").isNotEmpty();
    root("pkill -f 'sleep 4[4]' || true");
  }

  @Test
  void aCommandThatClosesItsOutputIsWaitedForAndGivesItsExitCode() {
    ExecResult r = run("echo bye; echo gone >&2; exec >&- 2>&-; sleep 2; exit 4");
    assertThat(r.exitCode()).isEqualTo(4);
    assertThat(r.stdoutText()).isEqualTo("bye\n");
    assertThat(r.stderrText()).isEqualTo("gone\n");
    assertThat(r.duration()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void anInterruptedCallerGetsATransportErrorAndTheTransportStillWorks() throws Exception {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread caller =
        new Thread(
            () -> {
              try {
                run("sleep 3");
              } catch (Throwable e) {
                thrown.set(e);
              }
            });
    caller.start();
    Thread.sleep(700);
    caller.interrupt();
    caller.join(10_000);
    assertThat(thrown.get())
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("interrupted");
    for (int i = 0; i < 5; i++) {
      ExecResult r =
          t.exec(
              ExecRequest.builder("cat; exit " + i)
                  .stdin(("in" + i).getBytes(StandardCharsets.UTF_8))
                  .build());
      assertThat(r.stdoutText()).isEqualTo("in" + i);
      assertThat(r.exitCode()).isEqualTo(i);
    }
  }

  @Test
  void becomeRunsThroughSudoAndATimeoutKillsWhatSudoStarted() {
    assertThat(
            t.exec(ExecRequest.builder("id -u").become(Become.as("root")).build())
                .stdoutText()
                .strip())
        .isEqualTo("0");
    ExecResult r =
        t.exec(
            ExecRequest.builder("sleep 43")
                .become(Become.as("root"))
                .timeout(Duration.ofSeconds(1))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(root("sleep 1; pgrep -f 'sleep 4[3]' || true"))
        .as("sudo'ed sleep was killed")
        .isEmpty();
  }

  @Test
  void uploadsAndDownloadsWithModesAndOwners() throws Exception {
    byte[] content = new byte[1 << 20];
    new Random(42).nextBytes(content);
    t.upload(content, "/tmp/rb-test/sub/blob.bin", "0640", Become.NONE);
    assertThat(root("sha256sum /tmp/rb-test/sub/blob.bin").split("\\s+", -1)[0])
        .isEqualTo(sha256(content));
    assertThat(root("stat -c '%a %U' /tmp/rb-test/sub/blob.bin").strip()).isEqualTo("640 runbook");
    assertThat(t.download("/tmp/rb-test/sub/blob.bin", Become.NONE)).isEqualTo(content);
    assertThat(root("ls -a /tmp/rb-test/sub"))
        .as("no temporary file left")
        .doesNotContain(".runbook-upload");

    // Without a mode an existing file keeps its own.
    root("install -m 0604 -o runbook /dev/null /tmp/rb-test/keep.txt");
    t.upload("new\n".getBytes(StandardCharsets.UTF_8), "/tmp/rb-test/keep.txt", null, Become.NONE);
    assertThat(root("stat -c '%a %U' /tmp/rb-test/keep.txt; cat /tmp/rb-test/keep.txt"))
        .isEqualTo("604 runbook\nnew\n");

    t.upload(
        "owned by root\n".getBytes(StandardCharsets.UTF_8),
        "/etc/runbook-test.conf",
        "0600",
        Become.as("root"));
    assertThat(root("stat -c '%a %U' /etc/runbook-test.conf").strip()).isEqualTo("600 root");
    assertThat(t.downloadText("/etc/runbook-test.conf", Become.as("root")))
        .isEqualTo("owned by root\n");
  }

  @Test
  void permissionsAreThoseOfTheUser() {
    assertThatThrownBy(
            () ->
                t.upload(
                    "x".getBytes(StandardCharsets.UTF_8),
                    "/etc/runbook-denied.conf",
                    "0644",
                    Become.NONE))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("cannot write /etc/runbook-denied.conf");
    assertThat(root("test -e /etc/runbook-denied.conf && echo exists || echo absent").strip())
        .isEqualTo("absent");
    assertThatThrownBy(() -> t.download("/etc/shadow", Become.NONE))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("cannot read /etc/shadow");
    assertThatThrownBy(() -> t.download("/tmp/no-such-file", Become.NONE))
        .hasMessageContaining("cannot read /tmp/no-such-file");
  }

  @Test
  void aMissingContainerIsAClearTransportErrorNamingTheHost() {
    assertThatThrownBy(() -> DockerTransport.connect("ghost", "runbook-no-such-container", null))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("ghost (docker:runbook-no-such-container)")
        .hasMessageContaining("no container 'runbook-no-such-container'");
  }

  @Test
  void aRemovedContainerOrUnknownExecIsAClearErrorNotAHang() throws Exception {
    String doomed = "runbook-dtit-gone-" + UUID.randomUUID().toString().substring(0, 8);
    docker
        .createContainerCmd(SshHost.IMAGE)
        .withName(doomed)
        .withCmd("sleep", "infinity")
        .withLabels(Map.of("io.runbook.test", "DockerTransportIT"))
        .exec();
    docker.startContainerCmd(doomed).exec();
    try (DockerTransport g = DockerTransport.connect("g1", doomed, SshHost.USER)) {
      assertThat(g.exec(ExecRequest.builder("echo up").build()).stdoutText()).isEqualTo("up\n");
      docker.removeContainerCmd(doomed).withForce(true).exec();
      assertThatThrownBy(() -> g.exec(ExecRequest.builder("echo up").build()))
          .isInstanceOf(TransportException.class)
          .hasMessageContaining("g1 (docker:" + doomed + ")")
          .hasMessageContaining("is gone");
    }
    // The attach itself answers an unknown exec with the daemon's 404, read to its Content-Length.
    assertThatThrownBy(
            () ->
                DockerExecStream.start(
                    DockerClients.localHost(),
                    "no-such-exec",
                    null,
                    OutputStream.nullOutputStream(),
                    OutputStream.nullOutputStream(),
                    "x"))
        .isInstanceOf(DockerExecStream.DockerApiException.class)
        .hasMessageContaining("HTTP 404")
        .hasMessageContaining("no-such-exec");
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
