package io.runbook.execution;

import static io.runbook.testing.SampleRuns.health;
import static io.runbook.testing.SampleRuns.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SampleRuns.Run;
import io.runbook.testing.SshHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet rollouts on six real OpenSSH hosts: a canary ramp with gates, and a failure in batch 2 under
 * each on_failure policy, checked on the hosts' files, databases and /_health, not only on the recap.
 */
class RolloutIT {
  static Fleet fleet;
  static final String APP = "/home/runbook/rollout";
  static final int PORT = 8090;

  @TempDir Path tmp;
  SampleRuns sample;
  Path inventory;

  @BeforeAll
  static void startFleet() {
    fleet = Fleet.start(6);
  }

  @AfterAll
  static void stopFleet() {
    if (fleet != null) fleet.close();
  }

  @BeforeEach
  void install() {
    sample = new SampleRuns(fleet, tmp);
    inventory = sample.inventory(APP, PORT, h -> "");
    Run install = sample.apply("install-sample.yaml", inventory, "--forks", "6", "--serial", "100%");
    assertThat(install.code()).as(install.all()).isZero();
  }

  /** The seed's partly applied migration on h3, so that its migration fails in batch 2. */
  static void breakH3() {
    fleet.host(2).exec("runuser", "-u", "runbook", "--", "sqlite3", APP + "/data/sample.db",
        "ALTER TABLE messages ADD COLUMN thread_id INTEGER");
  }

  /** Batches [h1] [h2, h3] [h4, h5, h6]. */
  Run rollout(String... policy) {
    List<String> args = new ArrayList<>(List.of("--forks", "6", "--serial", "1,2,100%"));
    args.addAll(List.of(policy));
    return sample.apply("upgrade-v2.yaml", inventory, args.toArray(String[]::new));
  }

  Map<String, String> snapshots() {
    Map<String, String> m = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) m.put(h.name(), snapshot(h, APP));
    return m;
  }

  void assertVersions(String... versions) {
    for (int i = 0; i < versions.length; i++) {
      assertThat(health(fleet.host(i), PORT)).as(fleet.host(i).name()).isEqualTo(versions[i]);
    }
  }

  @Test
  void aCanaryRampCompletesBatchByBatchWithGates() {
    Run run = sample.apply("upgrade-v2.yaml", inventory, "--forks", "6", "--serial", "1,2,100%");

    assertThat(run.code()).as(run.all()).isZero();
    assertVersions("2.0.0", "2.0.0", "2.0.0", "2.0.0", "2.0.0", "2.0.0");
    List<JsonNode> journal = sample.journal("upgrade-v2.yaml");
    List<List<String>> batches = new ArrayList<>();
    List<String> order = new ArrayList<>();
    for (JsonNode e : journal) {
      switch (e.path("event").asText()) {
        case "batch_started" -> {
          List<String> hosts = new ArrayList<>();
          e.path("hosts").forEach(h -> hosts.add(h.asText()));
          batches.add(hosts);
          order.add("batch " + e.path("batch").asInt());
        }
        case "step_finished" -> {
          if (e.path("phase").asText().equals("gate")) order.add("gate " + e.path("host").asText() + " " + e.path("name").asText());
          if (e.path("phase").asText().equals("migrate")) order.add("migrate " + e.path("host").asText());
        }
        case "batch_finished" -> order.add("batch " + e.path("batch").asInt() + " " + e.path("decision").asText());
        default -> { }
      }
    }
    assertThat(batches).containsExactly(List.of("h1"), List.of("h2", "h3"), List.of("h4", "h5", "h6"));
    // Each batch migrates, passes its gate, and only then does the next batch start.
    assertThat(order.subList(0, 5)).containsExactly("batch 1", "migrate h1", "gate h1 /_health still reports 2.0.0",
        "gate h1 Soak", "batch 1 continue");
    assertThat(order.indexOf("batch 2")).isGreaterThan(order.indexOf("batch 1 continue"));
    assertThat(order.indexOf("batch 3")).isGreaterThan(order.indexOf("batch 2 continue"));
    assertThat(order).contains("gate h5 Soak", "batch 3 done");
    sample.stopService(APP);
  }

  @Test
  void rollbackHostGoesOnWhileUnderTheThreshold() {
    breakH3();
    Map<String, String> before = snapshots();

    Run run = rollout("--on-failure", "rollback-host", "--max-fail-percentage", "50");

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertVersions("2.0.0", "2.0.0", "1.2.3", "2.0.0", "2.0.0", "2.0.0");
    assertThat(snapshot(fleet.host(2), APP)).isEqualTo(before.get("h3"));
    assertThat(run.out()).containsPattern("h3\\s+binary\\s+rolled back");
    sample.stopService(APP);
  }

  @Test
  void haltStopsAndRollsBackOnlyTheFailedHost() {
    breakH3();
    Map<String, String> before = snapshots();

    Run run = rollout("--on-failure", "halt");

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertVersions("2.0.0", "2.0.0", "1.2.3", "1.2.3", "1.2.3", "1.2.3");
    for (String h : List.of("h3", "h4", "h5", "h6")) assertThat(snapshot(fleet.host(h), APP)).as(h).isEqualTo(before.get(h));
    assertThat(run.out()).containsPattern("h3\\s+binary\\s+rolled back").containsPattern("h4\\s+binary\\s+not run")
        .containsPattern("h1\\s+binary\\s+ok").contains("Rollout stopped");
    sample.stopService(APP);
  }

  @Test
  void rollbackFleetUndoesEveryHostThisRunChanged() {
    breakH3();
    Map<String, String> before = snapshots();

    Run run = rollout("--on-failure", "rollback-fleet");

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertVersions("1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3");
    assertThat(snapshots()).isEqualTo(before);
    assertThat(run.out()).containsPattern("h1\\s+binary\\s+undone").containsPattern("h2\\s+binary\\s+undone")
        .containsPattern("h3\\s+binary\\s+rolled back").containsPattern("h6\\s+binary\\s+not run");
    // Newest batch first: h2 (batch 2) is undone before h1 (batch 1).
    List<String> starts = new ArrayList<>();
    for (JsonNode e : sample.journal("upgrade-v2.yaml")) {
      if (e.path("event").asText().equals("rollback_started")) starts.add(e.path("host").asText());
    }
    assertThat(starts.indexOf("h2")).isLessThan(starts.indexOf("h1"));
    sample.stopService(APP);
  }
}
