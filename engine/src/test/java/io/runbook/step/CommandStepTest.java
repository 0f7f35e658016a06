package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandStepTest {
  final CommandStep step = new CommandStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  static final String NASTY = "[printf, '%s|\\n', 'a b', '$HOME', \"it's\", ';', '*', '`id`', '']";

  @Test
  void everyArgumentIsQuotedSoTheShellInterpretsNothing() {
    host.answer(ok(""));
    step.execute(Bind.args(step, NASTY), new FakeContext(host, dir));
    assertThat(host.last().command())
        .isEqualTo("printf '%s|\\n' 'a b' '$HOME' 'it'\"'\"'s' ';' '*' '`id`' ''");
  }

  @Test
  void objectFormBindsArgvAndOptions() {
    CommandStep.Args a = Bind.args(step, "{argv: [sleep, 1], chdir: /tmp, creates: /tmp/x}");
    assertThat(a.argv()).containsExactly("sleep", "1");
    assertThat(a.chdir()).isEqualTo("/tmp");
    host.answer(RecordingTransport.result(1, "", ""), ok(""));
    StepResult r = step.execute(a, new FakeContext(host, dir));
    assertThat(host.commands()).containsExactly("test -e /tmp/x", "sleep 1");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.data()).containsEntry("cmd", "sleep 1");
  }

  @Test
  void emptyArgvIsInvalid() {
    assertThat(step.validate(CommandStep.Args.of(List.of()))).singleElement().asString().contains("'argv' is empty");
  }

  @Test
  void unknownKeysDoNotBind() {
    assertThatThrownBy(() -> Bind.args(step, "{argv: [ls], chdri: /tmp}")).isInstanceOf(IllegalArgumentException.class);
  }

  @Nested
  class OnARealShell {
    @Test
    void argumentsReachTheProgramLiterally() {
      FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
      StepResult r = step.execute(Bind.args(step, NASTY), ctx);
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(r.stdout()).isEqualTo("a b|\n$HOME|\nit's|\n;|\n*|\n`id`|\n|\n");
    }

    @Test
    void missingProgramFails() {
      FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
      StepResult r = step.execute(CommandStep.Args.of(List.of("no-such-program-xyz", "--version")), ctx);
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.rc()).isEqualTo(127);
    }
  }
}
