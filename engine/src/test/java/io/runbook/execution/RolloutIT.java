package io.runbook.execution;

import static io.runbook.testing.SampleRuns.health;
import static io.runbook.testing.SampleRuns.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.lock.HostLock;
import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet rollouts on six real OpenSSH hosts: a canary ramp with gates, and a failure in batch 2
 * under each on_failure policy, checked on the hosts' files, databases and /_health, not only on
 * the recap.
 */
class RolloutIT {
  @RegisterExtension static final Fleet fleet = Fleet.of(6);
  static final String APP = "/home/runbook/rollout";
  static final int PORT = 8090;

  @TempDir Path tmp;
  SampleRuns sample;
  Path inventory;

  @AfterEach
  void unlock() {
    sample.clearLocks();
  }

  @BeforeEach
  void install() {
    sample = new SampleRuns(fleet, tmp);
    inventory = sample.inventory(APP, PORT, h -> "");
    Run install =
        sample.apply("install-sample.yaml", inventory, "--forks", "6", "--serial", "100%");
    assertThat(install.code()).as(install.all()).isZero();
  }

  /** The seed's partly applied migration on h3, so that its migration fails in batch 2. */
  static void breakH3() {
    fleet
        .host(2)
        .exec(
            "runuser",
            "-u",
            "runbook",
            "--",
            "sqlite3",
            APP + "/data/sample.db",
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
          boolean skipped =
              e.path("result")
                  .path("status")
                  .asText()
                  .equals("SKIPPED"); // the kubernetes-only gate step
          if (e.path("phase").asText().equals("gate") && !skipped)
            order.add("gate " + e.path("host").asText() + " " + e.path("name").asText());
          if (e.path("phase").asText().equals("migrate"))
            order.add("migrate " + e.path("host").asText());
        }
        case "batch_finished" ->
            order.add("batch " + e.path("batch").asInt() + " " + e.path("decision").asText());
        default -> {}
      }
    }
    assertThat(batches)
        .containsExactly(List.of("h1"), List.of("h2", "h3"), List.of("h4", "h5", "h6"));
    // Each batch migrates, passes its gate, and only then does the next batch start.
    assertThat(order.subList(0, 5))
        .containsExactly(
            "batch 1",
            "migrate h1",
            "gate h1 /_health still reports 2.0.0",
            "gate h1 Soak",
            "batch 1 continue");
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
    for (String h : List.of("h3", "h4", "h5", "h6"))
      assertThat(snapshot(fleet.host(h), APP)).as(h).isEqualTo(before.get(h));
    assertThat(run.out())
        .containsPattern("h3\\s+binary\\s+rolled back")
        .containsPattern("h4\\s+binary\\s+not run")
        .containsPattern("h1\\s+binary\\s+ok")
        .contains("Rollout stopped");
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
    assertThat(run.out())
        .containsPattern("h1\\s+binary\\s+undone")
        .containsPattern("h2\\s+binary\\s+undone")
        .containsPattern("h3\\s+binary\\s+rolled back")
        .containsPattern("h6\\s+binary\\s+not run");
    // Newest batch first: h2 (batch 2) is undone before h1 (batch 1).
    List<String> starts = new ArrayList<>();
    for (JsonNode e : sample.journal("upgrade-v2.yaml")) {
      if (e.path("event").asText().equals("rollback_started")) starts.add(e.path("host").asText());
    }
    assertThat(starts.indexOf("h2")).isLessThan(starts.indexOf("h1"));
    sample.stopService(APP);
  }

  /** A rollout whose steps count how often they ran on each host, in files the hosts keep. */
  Path countingRunbook() throws Exception {
    return Files.writeString(
        tmp.resolve("counted.yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: counted rollout
        hosts: sample
        rollout:
          serial: [1, 2, "100%"]
          max_fail_percentage: 100
        phases:
          backup:
            - name: Count once
              shell: echo "[=run.id]" >> /home/runbook/count-once
              rollback:
                - name: Uncount
                  shell: echo undone >> /home/runbook/count-once
          deploy:
            - name: Slow and not idempotent
              shell: echo ran >> /home/runbook/count-slow; sleep 4
            - name: Idempotent check
              shell: echo ran >> /home/runbook/count-check
              idempotent: true
        """);
  }

  /** Waits until the slow step has written its counter on these hosts (it then sleeps 4 s). */
  private static void awaitSlowStep(String... hosts) {
    Instant deadline = Instant.now().plusSeconds(60);
    for (String name : hosts) {
      Await.until(
          Duration.between(Instant.now(), deadline),
          "the slow step started on " + name,
          () -> !lines(fleet.host(name), "count-slow").isEmpty());
    }
  }

  /** The run whose journal has {@code text}, or null. */
  private static String runWhoseJournalHas(Path runs, String text) throws IOException {
    if (!Files.isDirectory(runs)) return null;
    String runId = null;
    try (var dirs = Files.list(runs)) {
      for (Path d : dirs.toList()) {
        if (Files.readString(d.resolve("journal.jsonl")).contains(text))
          runId = d.getFileName().toString();
      }
    }
    return runId;
  }

  static List<String> lines(SshHost h, String file) {
    String out = h.exec("sh", "-c", "cat /home/runbook/" + file + " 2>/dev/null || true");
    return out.isBlank() ? List.of() : out.strip().lines().toList();
  }

  @Test
  void aKilledControllerResumesWithoutRunningANonIdempotentStepTwice() throws Exception {
    for (SshHost h : fleet.hosts()) h.exec("sh", "-c", "rm -f /home/runbook/count-*");
    Path rb = countingRunbook();
    Process controller =
        Cli.child(
                tmp.resolve("controller.log"),
                sample.args("apply", rb.toString(), "-i", inventory.toString(), "--forks", "6"))
            .start();
    // Kill it (SIGKILL) while batch 2 runs its slow step.
    Path runs = sample.stateDir().resolve("runs");
    String[] found = {null};
    Await.within(
        Duration.ofSeconds(60),
        () ->
            (found[0] =
                    runWhoseJournalHas(runs, "\"host\":\"h2\",\"phase\":\"deploy\",\"index\":2"))
                != null);
    String runId = found[0];
    assertThat(runId).as(Files.readString(tmp.resolve("controller.log"))).isNotNull();
    awaitSlowStep("h2", "h3"); // its counter written, its 4 s sleep going on
    controller.destroyForcibly().waitFor();
    assertThat(sample.cli("show", null, runId).out()).contains("interrupted");

    Run resumed = sample.cli("resume", null, runId);

    assertThat(resumed.code()).as(resumed.all()).isEqualTo(2);
    for (SshHost h : fleet.hosts()) {
      assertThat(lines(h, "count-slow")).as(h.name() + " ran the slow step").containsExactly("ran");
    }
    // h2 and h3 were in the slow step when the controller died: rolled back, not run again.
    for (String name : List.of("h2", "h3")) {
      assertThat(lines(fleet.host(name), "count-once")).as(name).containsExactly(runId, "undone");
      assertThat(lines(fleet.host(name), "count-check")).as(name).isEmpty();
    }
    for (String name : List.of("h1", "h4", "h5", "h6")) {
      assertThat(lines(fleet.host(name), "count-once")).as(name).containsExactly(runId);
      assertThat(lines(fleet.host(name), "count-check")).as(name).containsExactly("ran");
    }
    List<String> events =
        sample.journal("counted.yaml").stream().map(e -> e.path("event").asText()).toList();
    assertThat(events).contains("run_resumed").last().isEqualTo("run_finished");
  }

  @Test
  void rollbackOfAFinishedRunRestoresEveryHost() {
    Map<String, String> before = snapshots();
    Run upgrade = sample.apply("upgrade-v2.yaml", inventory, "--forks", "6", "--serial", "2");
    assertThat(upgrade.code()).as(upgrade.all()).isZero();
    assertVersions("2.0.0", "2.0.0", "2.0.0", "2.0.0", "2.0.0", "2.0.0");
    String runId = sample.journal("upgrade-v2.yaml").get(0).path("runId").asText();

    Run rollback = sample.cli("rollback", null, runId, "--forks", "6");

    assertThat(rollback.code()).as(rollback.all()).isEqualTo(2);
    assertVersions("1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3");
    assertThat(snapshots()).isEqualTo(before);
    assertThat(rollback.out()).containsPattern("h6\\s+binary\\s+undone");
    sample.stopService(APP);
  }

  @Test
  void aLockedHostRefusesASecondRunAndAStaleLockExpires() throws Exception {
    SshHost h1 = fleet.host(0);
    SshTransport t =
        SshTransport.connect(
            new SshSettings(
                "h1",
                h1.host(),
                h1.port(),
                h1.user(),
                h1.privateKey(),
                fleet.knownHostsFile(),
                HostKeyPolicy.STRICT,
                null));
    try (t) {
      HostLock held =
          HostLock.acquire(
              t, "h1", "20261121-000000-0000", "elsewhere", "alice", Duration.ofSeconds(3), false);
      Map<String, String> before = snapshots();
      // The holder is alive while the second run tries (it renews its short lease, however slow the
      // machine),
      // then dies.
      ScheduledExecutorService alive = Executors.newSingleThreadScheduledExecutor();
      var unused = alive.scheduleWithFixedDelay(held::renew, 500, 500, TimeUnit.MILLISECONDS);
      Run refused;
      try {
        refused = sample.apply("upgrade-v2.yaml", inventory, "--forks", "6");
      } finally {
        alive.shutdown();
        assertThat(alive.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }

      assertThat(refused.code()).as(refused.all()).isEqualTo(2);
      assertThat(refused.out())
          .contains("h1 is locked by run 20261121-000000-0000")
          .contains("alice@elsewhere")
          .contains("--break-lock")
          .contains("preflight failed on h1; nothing was changed");
      assertThat(snapshots()).isEqualTo(before);
      assertVersions("1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3", "1.2.3");
      assertThat(held.holder().runId()).isEqualTo("20261121-000000-0000");

      Await.past(held.holder().expires()); // the holder died: its lease runs out
      Run after = sample.apply("upgrade-v2.yaml", inventory, "--forks", "6", "--serial", "100%");

      assertThat(after.code()).as(after.all()).isZero();
      assertThat(after.out()).contains("lock took over from run 20261121-000000-0000");
      assertThat(HostLock.read(t)).isEmpty();
    }
    sample.stopService(APP);
  }

  @Test
  void ctrlCLetsStepsFinishRollsBackAndExitsWithARecap() throws Exception {
    for (SshHost h : fleet.hosts()) h.exec("sh", "-c", "rm -f /home/runbook/count-*");
    Path rb = countingRunbook();
    Path log = tmp.resolve("controller.log");
    // A shell without job control starts background commands with SIGINT ignored, the JVM keeps it
    // ignored,
    // and Ctrl-C would then do nothing: whoever launched the test suite, the controller gets the
    // default.
    Process controller =
        Cli.child(
                log,
                List.of("env", "--default-signal=INT"),
                sample.args(
                    "apply",
                    rb.toString(),
                    "-i",
                    inventory.toString(),
                    "--forks",
                    "6",
                    "--serial",
                    "100%"))
            .start();
    Await.within(Duration.ofSeconds(60), () -> Files.readString(log).contains("Count once"));
    awaitSlowStep("h1", "h2", "h3", "h4", "h5", "h6"); // the slow step runs on every host
    new ProcessBuilder("kill", "-INT", Long.toString(controller.pid())).start().waitFor();

    assertThat(controller.waitFor(60, TimeUnit.SECONDS)).isTrue();

    String out = Files.readString(log);
    assertThat(controller.exitValue()).as(out).isEqualTo(130);
    assertThat(out)
        .contains("RECAP")
        .containsPattern("h1\\s+binary\\s+rolled back")
        // said at once, with what it waits for and how to stop waiting; the recap says what
        // happened
        .contains(
            "runbook: interrupted — no new step starts; waiting for the step(s) in flight to end (")
        .contains("'Slow and not idempotent'")
        .contains("kill -9 " + controller.pid())
        .contains("INTERRUPTED by the operator")
        .doesNotContain("' failed:");
    for (SshHost h : fleet.hosts()) {
      // the slow step finished (it was in flight), nothing after it started, and the host was
      // undone
      assertThat(lines(h, "count-slow")).as(h.name()).containsExactly("ran");
      assertThat(lines(h, "count-check")).as(h.name()).isEmpty();
      assertThat(lines(h, "count-once")).as(h.name()).hasSize(2).last().isEqualTo("undone");
    }
  }
}
