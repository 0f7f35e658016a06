package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.rehearsal.FleetForecast.ModeTiming;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FleetForecastTest {
  // preflight, upgrade, gate, cleanup, downtime (ms)
  static final ModeTiming BINARY = new ModeTiming("binary", 500, 4000, 2100, 0, 1500);
  static final ModeTiming COMPOSE = new ModeTiming("compose", 800, 6000, 2100, 300, 2500);
  static final Map<String, ModeTiming> T = Map.of("binary", BINARY, "compose", COMPOSE);

  @Test
  void canaryRampOverTwentyHostsInOneMode() {
    List<String> hosts = Collections.nCopies(20, "binary");
    FleetForecast.Result r = FleetForecast.predict(hosts, List.of(1, "25%", "100%"), 10, T);
    // serial 1, 25% of 20 = 5, then the rest (14): waves 1, 1, 2
    assertThat(r.batches()).extracting(FleetForecast.Batch::hosts).containsExactly(1, 5, 14);
    assertThat(r.batches()).extracting(FleetForecast.Batch::waves).containsExactly(1, 1, 2);
    assertThat(r.preflightMs()).isEqualTo(2 * 500);
    assertThat(r.batches())
        .extracting(FleetForecast.Batch::durationMs)
        .containsExactly(4000 + 2100L, 4000 + 2100L, 2 * 4000 + 2100L);
    assertThat(r.durationMs()).isEqualTo(1000 + 6100 + 6100 + 10100);
    assertThat(r.downtimeWindowMs()).isEqualTo(1500 + 1500 + 2 * 1500);
    assertThat(r.hostDowntimeMs()).isEqualTo(20 * 1500);
    assertThat(r.maxHostsDownAtOnce()).isEqualTo(10);
    assertThat(r.fullOutageMs()).containsEntry("binary", 0L);
  }

  @Test
  void oneBatchOfEveryHostIsAFullOutageOfEachMode() {
    List<String> hosts = List.of("binary", "compose", "binary");
    FleetForecast.Result r = FleetForecast.predict(hosts, List.of(), 10, T);
    assertThat(r.batches()).hasSize(1);
    assertThat(r.batches().get(0).durationMs()).isEqualTo(6000 + 2100 + 300);
    assertThat(r.downtimeWindowMs()).isEqualTo(2500);
    assertThat(r.hostDowntimeMs()).isEqualTo(1500 + 2500 + 1500);
    assertThat(r.fullOutageMs()).containsEntry("binary", 1500L).containsEntry("compose", 2500L);
  }

  @Test
  void forksSplitABatchIntoWavesAndNoFullOutage() {
    FleetForecast.Result r =
        FleetForecast.predict(List.of("binary", "binary", "binary"), List.of("100%"), 1, T);
    assertThat(r.batches().get(0).waves()).isEqualTo(3);
    assertThat(r.downtimeWindowMs()).isEqualTo(3 * 1500);
    assertThat(r.maxHostsDownAtOnce()).isEqualTo(1);
    assertThat(r.fullOutageMs()).containsEntry("binary", 0L);
  }

  @Test
  void everyModeNeedsATiming() {
    assertThatThrownBy(() -> FleetForecast.predict(List.of("kubernetes"), List.of(), 1, T))
        .hasMessageContaining("no rehearsal timing for mode kubernetes");
  }
}
