package io.runbook.step;

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

/**
 * What the table cannot say of {@code command:}; its cases are in {@code
 * resources/io/runbook/steps/command/} (run by {@link StepCasesTest}).
 */
class CommandStepTest {
  final CommandStep step = new CommandStep();
  @TempDir Path dir;

  static final String NASTY = "[printf, '%s|\\n', 'a b', '$HOME', \"it's\", ';', '*', '`id`', '']";

  @Test
  void emptyArgvIsInvalid() {
    assertThat(step.validate(CommandStep.Args.of(List.of())))
        .singleElement()
        .asString()
        .contains("'argv' is empty");
  }

  @Test
  void unknownKeysDoNotBind() {
    assertThatThrownBy(() -> Bind.args(step, "{argv: [ls], chdri: /tmp}"))
        .isInstanceOf(IllegalArgumentException.class);
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
      StepResult r =
          step.execute(CommandStep.Args.of(List.of("no-such-program-xyz", "--version")), ctx);
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.rc()).isEqualTo(127);
    }
  }
}
