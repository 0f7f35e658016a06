package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AssertStepTest {
  final AssertStep step = new AssertStep();
  @TempDir Path dir;

  FakeContext ctx() {
    return new FakeContext(new RecordingTransport(), dir)
        .with("installed", Map.of("rc", 0, "stdout", "1.2.3"))
        .with("free_mb", 512);
  }

  @Test
  void allTrueIsOk() {
    StepResult r =
        step.execute(Bind.args(step, "{that: ['installed.rc == 0', 'free_mb > 100']}"), ctx());
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("all 2 conditions hold");
  }

  @Test
  void singleConditionAndSuccessMessage() {
    StepResult one =
        step.execute(Bind.args(step, "{that: 'installed.stdout?starts_with(\"1.\")'}"), ctx());
    assertThat(one.message()).isEqualTo("'installed.stdout?starts_with(\"1.\")' holds");
    StepResult custom = step.execute(Bind.args(step, "{that: true, success_msg: ready}"), ctx());
    assertThat(custom.status()).isEqualTo(Status.OK);
    assertThat(custom.message()).isEqualTo("ready");
  }

  @Test
  void failsNamingTheFirstFalseCondition() {
    StepResult r =
        step.execute(
            Bind.args(
                step,
                "{that: ['installed.rc == 0', 'free_mb > 1000', 'installed.stdout == \"9\"']}"),
            ctx());
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("assertion failed: 'free_mb > 1000' is false");
    assertThat(r.data()).containsEntry("assertion", "free_mb > 1000");
  }

  @Test
  void failMsgComesFirst() {
    StepResult r =
        step.execute(
            Bind.args(
                step,
                "{that: 'installed.stdout == \"2.0.0\"', fail_msg: upgrade needs 2.x installed}"),
            ctx());
    assertThat(r.message())
        .isEqualTo("upgrade needs 2.x installed: 'installed.stdout == \"2.0.0\"' is false");
  }

  @Test
  void undefinedVariableFailsWithAHint() {
    StepResult r = step.execute(Bind.args(step, "{that: 'instaled.rc == 0'}"), ctx());
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "assertion failed: cannot evaluate 'instaled.rc == 0': undefined variable 'instaled' (did you mean 'installed'?)");
  }

  @Test
  void emptyThatIsInvalid() {
    assertThat(step.validate(new AssertStep.Args(List.of(), null, null))).hasSize(1);
  }

  @Test
  void checksTheRegisteredResultOfARealCommand() {
    FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
    StepResult out = new ShellStep().execute(ShellStep.Args.of("echo 1.2.3; echo warn >&2"), ctx);
    ctx.vars.put("version", out.registered());
    assertThat(
            step.execute(
                    Bind.args(
                        step,
                        "{that: ['version.rc == 0', 'version.stdout == \"1.2.3\"', 'version.stderr == \"warn\"']}"),
                    ctx)
                .status())
        .isEqualTo(Status.OK);
    assertThat(step.execute(Bind.args(step, "{that: 'version.stdout == \"2.0.0\"'}"), ctx).status())
        .isEqualTo(Status.FAILED);
  }
}
