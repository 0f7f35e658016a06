package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShellStepTest {
  final ShellStep step = new ShellStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  @Test
  void stringShorthandRunsTheLineAsIsWithTheContextsTimeoutAndBecome() {
    FakeContext ctx = new FakeContext(host, dir);
    ctx.timeout = Duration.ofSeconds(7);
    ctx.become = Become.as("postgres");
    host.answer(ok("done\n"));

    StepResult r = step.execute(Bind.args(step, "'ls /opt/app/*.jar | wc -l'"), ctx);

    ExecRequest sent = host.last();
    assertThat(host.requests).hasSize(1);
    assertThat(sent.command()).isEqualTo("ls /opt/app/*.jar | wc -l");
    assertThat(sent.timeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(sent.become()).isEqualTo(Become.as("postgres"));
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.rc()).isZero();
    assertThat(r.stdout()).isEqualTo("done\n");
    assertThat(r.data()).containsEntry("cmd", "ls /opt/app/*.jar | wc -l");
  }

  @Test
  void nonZeroExitFailsWithTheLastLineOfStderr() {
    host.answer(result(2, "", "warming up\nno such table: users\n"));
    StepResult r = step.execute(ShellStep.Args.of("psql -f m.sql"), new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.rc()).isEqualTo(2);
    assertThat(r.message()).isEqualTo("exit code 2: no such table: users");
  }

  @Test
  void chdirEnvAndStdinReachTheRequest() {
    ShellStep.Args a = Bind.args(step, """
        cmd: psql
        chdir: /srv/db
        env: {PGHOST: db1, PGPORT: 5432}
        stdin: "select 1;"
        """);
    step.execute(a, new FakeContext(host, dir));
    ExecRequest sent = host.last();
    assertThat(sent.chdir()).isEqualTo("/srv/db");
    assertThat(sent.env()).isEqualTo(Map.of("PGHOST", "db1", "PGPORT", "5432"));
    assertThat(new String(sent.stdin(), StandardCharsets.UTF_8)).isEqualTo("select 1;");
    // ExecRequest keeps env in a Map.copyOf, so the order of the exports is not fixed.
    assertThat(sent.shellCommand()).startsWith("cd /srv/db && export ").endsWith("; psql")
        .contains("export PGHOST=db1; ", "export PGPORT=5432; ");
  }

  @Test
  void createsSkipsWithOkWhenThePathExists() {
    host.answer(ok("")); // test -e succeeds
    StepResult r = step.execute(Bind.args(step, "{cmd: ./migrate, chdir: /opt/app, creates: .migrated}"),
        new FakeContext(host, dir));
    assertThat(host.commands()).containsExactly("test -e .migrated");
    assertThat(host.last().chdir()).isEqualTo("/opt/app");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("skipped: .migrated exists");
  }

  @Test
  void createsRunsTheCommandWhenThePathIsMissing() {
    host.answer(result(1, "", ""), ok(""));
    StepResult r = step.execute(Bind.args(step, "{cmd: ./migrate, creates: '/opt/app/my flag'}"),
        new FakeContext(host, dir));
    assertThat(host.commands()).containsExactly("test -e '/opt/app/my flag'", "./migrate");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
  }

  @Test
  void removesSkipsWhenThePathIsAlreadyGone() {
    host.answer(result(1, "", ""));
    StepResult r = step.execute(Bind.args(step, "{cmd: rm -r /tmp/old, removes: /tmp/old}"), new FakeContext(host, dir));
    assertThat(host.requests).hasSize(1);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("skipped: /tmp/old does not exist");
  }

  @Test
  void timedOutCommandFails() {
    host.answer(RecordingTransport.timedOut());
    StepResult r = step.execute(ShellStep.Args.of("sleep 100"), new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith("timed out");
  }

  @Test
  void blankCommandIsInvalid() {
    assertThat(step.validate(ShellStep.Args.of(" "))).containsExactly("'cmd' is empty");
  }

  @Nested
  class OnARealShell {
    FakeContext ctx;

    @BeforeEach
    void setUp() {
      ctx = new FakeContext(new LocalTransport("local"), dir);
    }

    @Test
    void shellSyntaxIsInterpreted() {
      StepResult r = step.execute(ShellStep.Args.of("echo $((1+2)) | tr 3 x; echo oops >&2"), ctx);
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(r.stdout()).isEqualTo("x\n");
      assertThat(r.stderr()).isEqualTo("oops\n");
    }

    @Test
    void exitCodeIsKept() {
      StepResult r = step.execute(ShellStep.Args.of("echo broken >&2; exit 3"), ctx);
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.rc()).isEqualTo(3);
      assertThat(r.message()).isEqualTo("exit code 3: broken");
    }

    @Test
    void chdirEnvAndStdinWork() throws Exception {
      ShellStep.Args a = Bind.args(step, """
          cmd: 'cat > out.txt; echo "$GREETING $WHO" >> out.txt'
          chdir: %s
          env: {GREETING: hello, WHO: "it's me"}
          stdin: "from stdin\\n"
          """.formatted(dir));
      StepResult r = step.execute(a, ctx);
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("from stdin\nhello it's me\n");
    }

    @Test
    void createsReallySkipsAndRemovesReallyRuns() throws Exception {
      Files.writeString(dir.resolve("flag"), "");
      StepResult skipped = step.execute(Bind.args(step,
          "{cmd: touch ran, chdir: '%s', creates: flag}".formatted(dir)), ctx);
      assertThat(skipped.status()).isEqualTo(Status.OK);
      assertThat(dir.resolve("ran")).doesNotExist();

      StepResult ran = step.execute(Bind.args(step,
          "{cmd: rm flag, chdir: '%s', removes: flag}".formatted(dir)), ctx);
      assertThat(ran.status()).isEqualTo(Status.CHANGED);
      assertThat(dir.resolve("flag")).doesNotExist();
    }
  }
}
