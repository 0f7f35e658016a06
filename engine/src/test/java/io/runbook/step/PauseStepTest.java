package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PauseStepTest {
  final PauseStep step = new PauseStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  @Test
  void everyFormBindsToItsDuration() {
    assertThat(Bind.args(step, "30").duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(Bind.args(step, "'30s'").duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(Bind.args(step, "250ms").duration()).isEqualTo(Duration.ofMillis(250));
    assertThat(Bind.args(step, "5m").duration()).isEqualTo(Duration.ofMinutes(5));
    assertThat(Bind.args(step, "'45'").duration()).isEqualTo(Duration.ofSeconds(45));
    PauseStep.Args full = Bind.args(step, "{seconds: 30, reason: soak}");
    assertThat(full.duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(full.reason()).isEqualTo("soak");
    assertThat(Bind.args(step, "{seconds: 2m}").duration()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void waitsOnTheControllerAndSaysWhy() {
    long t0 = System.nanoTime();
    StepResult r =
        step.execute(
            Bind.args(step, "{seconds: 300ms, reason: soak the canary batch}"),
            new FakeContext(host, dir));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("paused 300ms: soak the canary batch");
    assertThat(r.data()).containsEntry("seconds", 0.3);
    assertThat(took).isGreaterThanOrEqualTo(300);
    assertThat(host.requests).as("a pause touches no host").isEmpty();
  }

  @Test
  void messageWithoutReasonAndInWholeUnits() {
    assertThat(step.execute(Bind.args(step, "0"), new FakeContext(host, dir)).message())
        .isEqualTo("paused 0ms");
    assertThat(PauseStep.format(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(PauseStep.format(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(PauseStep.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(PauseStep.format(Duration.ofHours(1))).isEqualTo("1h");
    assertThat(PauseStep.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
  }

  @Test
  void interruptionFailsTheStepAndKeepsTheFlag() throws Exception {
    AtomicReference<Boolean> flag = new AtomicReference<>();
    CompletableFuture<StepResult> result = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              StepResult r =
                  step.execute(
                      Bind.args(step, "{seconds: 1h, reason: soak}"), new FakeContext(host, dir));
              flag.set(Thread.currentThread().isInterrupted());
              result.complete(r);
            });
    long t0 = System.nanoTime();
    t.start();
    Thread.sleep(100);
    t.interrupt();
    StepResult r = result.get(5, TimeUnit.SECONDS);

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("interrupted");
    assertThat(flag.get()).as("interrupt flag restored").isTrue();
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(5);
  }

  @Test
  void validateNamesWhatIsWrong() {
    assertThat(step.validate(Bind.args(step, "{seconds: 10}"))).isEmpty();
    assertThat(step.validate(Bind.args(step, "'ten seconds'")))
        .containsExactly("'ten seconds' is not a duration: use seconds (30) or 250ms, 30s, 5m, 1h");
    assertThat(step.validate(Bind.args(step, "{reason: soak}")))
        .containsExactly("'seconds' is missing; give how long to wait, e.g. 30 or 5m");
    StepResult r = step.execute(Bind.args(step, "'1 week'"), new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith("'1 week' is not a duration");
  }
}
