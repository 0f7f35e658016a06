package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.testing.Ports;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WaitForStepTest {
  final WaitForStep step = new WaitForStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  StepResult run(String yaml, FakeContext ctx) {
    return step.execute(Bind.args(step, yaml), ctx);
  }

  @Test
  void pollsInOneRemoteCommand() {
    host.answer(ok("3\n"));
    StepResult r =
        run("{port: 8080, timeout_seconds: 90, delay_seconds: 2}", new FakeContext(host, dir));
    assertThat(host.requests).hasSize(1);
    assertThat(host.last().command())
        .startsWith("H=127.0.0.1; P=8080; ")
        .contains(
            "/dev/tcp/$1/$2",
            "python3",
            "end=$((start + 90 + 1))",
            "sleep 2;",
            "while :; do if probe;");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("port 8080 on 127.0.0.1 open after 3 s");
    assertThat(r.data())
        .containsEntry("port", 8080)
        .containsEntry("host", "127.0.0.1")
        .containsEntry("elapsed_seconds", 3);
  }

  @Test
  void timeoutFailsSayingWhatDidNotHappen() {
    host.answer(result(1, "", ""));
    StepResult r = run("{port: 8080}", new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("port 8080 on 127.0.0.1 not open after 60 s");
  }

  @Test
  void stoppedAndAbsentWaitForTheOpposite() {
    host.answer(result(1, "", ""), result(1, "", ""), ok("0"));
    FakeContext ctx = new FakeContext(host, dir);
    assertThat(run("{port: 5432, host: db1, state: stopped, timeout_seconds: 5}", ctx).message())
        .isEqualTo("port 5432 on db1 still open after 5 s");
    assertThat(host.last().command()).startsWith("H=db1; P=5432; ").contains("if ! probe;");
    assertThat(run("{path: /var/run/app.pid, state: absent, timeout_seconds: 5}", ctx).message())
        .isEqualTo("/var/run/app.pid still present after 5 s");
    assertThat(host.last().command())
        .startsWith("F=/var/run/app.pid; ")
        .contains("if ! [ -e \"$F\" ];")
        .doesNotContain("probe");
    assertThat(run("{path: '/tmp/ready flag'}", ctx).message())
        .isEqualTo("/tmp/ready flag present after 0 s");
    assertThat(host.last().command())
        .startsWith("F='/tmp/ready flag'; ")
        .contains("if [ -e \"$F\" ];");
  }

  @Test
  void hostWithoutBashOrPythonIsExplained() {
    host.answer(result(3, "", "wait_for needs bash or python3 on the host to probe a port\n"));
    assertThat(run("{port: 1}", new FakeContext(host, dir)).message())
        .isEqualTo(
            "cannot check port 1 on 127.0.0.1: wait_for needs bash or python3 on the host to probe a port");
  }

  @Test
  void validation() {
    assertThat(step.validate(Bind.args(step, "{timeout_seconds: 1}")))
        .containsExactly("give exactly one of 'port' or 'path'");
    assertThat(step.validate(Bind.args(step, "{port: 1, path: /x, state: up}"))).hasSize(2);
    assertThat(step.validate(Bind.args(step, "{port: '8080'}"))).isEmpty();
  }

  @Nested
  class OnARealHost {
    FakeContext ctx() {
      return new FakeContext(new LocalTransport("local"), dir);
    }

    @Test
    void openPortIsReachedAtOnce() throws Exception {
      try (ServerSocket server = new ServerSocket(0)) {
        StepResult r = run("{port: " + server.getLocalPort() + ", timeout_seconds: 10}", ctx());
        assertThat(r.status()).isEqualTo(Status.OK);
        // whole seconds as the host's clock counts them: a second boundary may fall inside the
        // probe
        assertThat(((Number) r.data().get("elapsed_seconds")).intValue()).isLessThanOrEqualTo(1);
      }
    }

    @Test
    void closedPortTimesOut() throws Exception {
      int port = Ports.free();
      long t0 = System.nanoTime();
      StepResult r = run("{port: " + port + ", timeout_seconds: 1}", ctx());
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message()).isEqualTo("port " + port + " on 127.0.0.1 not open after 1 s");
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
      assertThat(run("{port: " + port + ", state: stopped, timeout_seconds: 1}", ctx()).status())
          .isEqualTo(Status.OK);
    }

    @Test
    void portOpenedLaterIsWaitedFor() throws Exception {
      int port = Ports.free();
      CountDownLatch stepDone = new CountDownLatch(1);
      Thread opener =
          new Thread(
              () -> {
                try {
                  Thread.sleep(1500); // "later" is what is tested
                  try (ServerSocket s = new ServerSocket(port)) {
                    // open until the step saw it
                    assertThat(stepDone.await(30, TimeUnit.SECONDS)).isTrue();
                    assertThat(s.isBound()).isTrue();
                  }
                } catch (Exception ignored) {
                  // the assertion below fails if the port never opened
                }
              });
      opener.start();
      StepResult r = run("{port: " + port + ", timeout_seconds: 10}", ctx());
      stepDone.countDown();
      opener.join();
      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat((Integer) r.data().get("elapsed_seconds")).isBetween(1, 4);
    }

    @Test
    void pathAppearsAndGoes() throws Exception {
      Path flag = dir.resolve("ready");
      Thread maker =
          new Thread(
              () -> {
                try {
                  Thread.sleep(1200);
                  Files.writeString(flag, "");
                } catch (Exception ignored) {
                  // the assertion below fails if the file never appeared
                }
              });
      maker.start();
      StepResult r = run("{path: '" + flag + "', timeout_seconds: 10}", ctx());
      maker.join();
      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.message()).startsWith(flag + " present after ");

      StepResult still = run("{path: '" + flag + "', state: absent, timeout_seconds: 1}", ctx());
      assertThat(still.status()).isEqualTo(Status.FAILED);
      assertThat(still.message()).isEqualTo(flag + " still present after 1 s");
    }

    /**
     * Runs the remote command with a PATH holding only the given programs, so bash cannot be found.
     */
    ExecResult withOnly(List<String> programs, WaitForStep.Args a) throws Exception {
      Path bin = Files.createDirectories(dir.resolve("bin-" + programs.size()));
      LocalTransport local = new LocalTransport("local");
      for (String p : programs) {
        String real =
            local
                .exec(
                    ExecRequest.builder(
                            p.equals("python3")
                                ? "python3 -c 'import os,sys; print(os.path.realpath(sys.executable))'"
                                : "command -v " + p)
                        .build())
                .stdoutText()
                .strip();
        Files.deleteIfExists(bin.resolve(p));
        Files.createSymbolicLink(bin.resolve(p), Path.of(real));
      }
      return local.exec(
          ExecRequest.builder(WaitForStep.script(a)).env(Map.of("PATH", bin.toString())).build());
    }

    @Test
    void python3ProbesWhereThereIsNoBash() throws Exception {
      int port;
      try (ServerSocket server = new ServerSocket(0)) {
        port = server.getLocalPort();
        WaitForStep.Args open = Bind.args(step, "{port: " + port + ", timeout_seconds: 5}");
        ExecResult r = withOnly(List.of("date", "sleep", "timeout", "python3"), open);
        assertThat(r.exitCode()).as(r.stderrText()).isZero();
      }
      WaitForStep.Args shut = Bind.args(step, "{port: " + port + ", timeout_seconds: 1}");
      assertThat(withOnly(List.of("date", "sleep", "timeout", "python3"), shut).exitCode())
          .isEqualTo(1);
    }

    @Test
    void hostWithNeitherBashNorPythonSaysSo() throws Exception {
      ExecResult r = withOnly(List.of("date", "sleep"), Bind.args(step, "{port: 1}"));
      assertThat(r.exitCode()).isEqualTo(3);
      assertThat(r.stderrText()).contains("wait_for needs bash or python3");
    }
  }
}
