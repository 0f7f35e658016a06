package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the table cannot say of {@code shell:}; its cases are in {@code
 * resources/io/runbook/steps/shell/} (run by {@link StepCasesTest}).
 */
class ShellStepTest {
  final ShellStep step = new ShellStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  @Test
  void chdirEnvAndStdinReachTheRequest() {
    ShellStep.Args a =
        Bind.args(
            step,
            """
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
    assertThat(sent.shellCommand())
        .startsWith("cd /srv/db && export ")
        .endsWith("; psql")
        .contains("export PGHOST=db1; ", "export PGPORT=5432; ");
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
      ShellStep.Args a =
          Bind.args(
              step,
              """
          cmd: 'cat > out.txt; echo "$GREETING $WHO" >> out.txt'
          chdir: %s
          env: {GREETING: hello, WHO: "it's me"}
          stdin: "from stdin\\n"
          """
                  .formatted(dir));
      StepResult r = step.execute(a, ctx);
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("from stdin\nhello it's me\n");
    }

    @Test
    void createsReallySkipsAndRemovesReallyRuns() throws Exception {
      Files.writeString(dir.resolve("flag"), "");
      StepResult skipped =
          step.execute(
              Bind.args(step, "{cmd: touch ran, chdir: '%s', creates: flag}".formatted(dir)), ctx);
      assertThat(skipped.status()).isEqualTo(Status.OK);
      assertThat(dir.resolve("ran")).doesNotExist();

      StepResult ran =
          step.execute(
              Bind.args(step, "{cmd: rm flag, chdir: '%s', removes: flag}".formatted(dir)), ctx);
      assertThat(ran.status()).isEqualTo(Status.CHANGED);
      assertThat(dir.resolve("flag")).doesNotExist();
    }
  }
}
