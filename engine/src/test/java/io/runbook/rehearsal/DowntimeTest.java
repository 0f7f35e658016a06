package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.rehearsal.Downtime.Sample;
import io.runbook.rehearsal.Downtime.StepTiming;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DowntimeTest {
  static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");

  static Instant t(long ms) {
    return T0.plusMillis(ms);
  }

  static final List<StepTiming> STEPS =
      List.of(
          new StepTiming(1, "preflight", "check", t(0), t(100), true),
          new StepTiming(2, "backup", "Stop the service", t(100), t(400), true),
          new StepTiming(3, "backup", "Back up", t(400), t(600), true),
          new StepTiming(4, "deploy", "Start", t(600), t(1200), true),
          new StepTiming(5, "verify", "health", t(1200), t(1300), true),
          new StepTiming(6, "gate", "soak", t(1300), t(3300), true));

  static List<Sample> samples(long downFrom, long upFrom) {
    List<Sample> s = new ArrayList<>();
    for (long ms = 50; ms < 3300; ms += 200)
      s.add(new Sample(t(ms), ms < downFrom || ms >= upFrom));
    return s;
  }

  @Test
  void fromTheStepThatStoppedTheServiceToThePassingVerify() {
    // The probe first sees it down at 250 ms, while 'Stop the service' runs; back up at 1050 ms.
    Downtime.Result r = Downtime.measure(STEPS, samples(200, 1000));
    assertThat(r.steps())
        .extracting(StepTiming::name)
        .containsExactly("Stop the service", "Back up", "Start", "health");
    assertThat(r.millis()).isEqualTo(1300 - 100);
    assertThat(r.recovered()).isTrue();
    // samples at 50, 250, ..., 850 down, 1050 up: halfway 50..250 to halfway 850..1050
    assertThat(r.clientMillis()).as("as a client saw it").isEqualTo(950 - 150);
  }

  @Test
  void aShortStepBetweenTwoSamplesIsStillTheOneThatStoppedIt() {
    // Last healthy at 50, first unhealthy at 450 (after 'Stop the service' ended): still that step.
    List<Sample> s =
        List.of(new Sample(t(50), true), new Sample(t(450), false), new Sample(t(1250), true));
    assertThat(Downtime.measure(STEPS, s).steps().get(0).name()).isEqualTo("Stop the service");
  }

  @Test
  void noDowntimeWhenAlwaysHealthy() {
    Downtime.Result r = Downtime.measure(STEPS, samples(10_000, 10_000));
    assertThat(r.millis()).isZero();
    assertThat(r.steps()).isEmpty();
  }

  @Test
  void withoutAPassingVerifyTheDowntimeRunsToTheStepInFlightAtRecovery() {
    List<StepTiming> failed = new ArrayList<>(STEPS.subList(0, 4));
    failed.add(new StepTiming(5, "verify", "health", t(1200), t(1300), false));
    Downtime.Result r =
        Downtime.measure(
            failed,
            List.of(new Sample(t(50), true), new Sample(t(250), false), new Sample(t(1000), true)));
    assertThat(r.steps())
        .extracting(StepTiming::name)
        .containsExactly("Stop the service", "Back up", "Start");
    assertThat(r.millis()).isEqualTo(1200 - 100);
  }
}
