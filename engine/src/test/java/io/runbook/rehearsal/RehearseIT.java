package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import io.runbook.docker.DockerClients;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SampleRuns.Run;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbook rehearse} of the upgrade runbook against real SSH "production" hosts in two modes, with
 * real rehearsal containers on the real Docker daemon.
 *
 * <p>upgrade-v2.yaml has one mode (binary) on this branch; the second mode is a copy of it named
 * {@code legacy}, made by this test in its own copy of the runbook, and h3 is a {@code legacy} host.
 */
class RehearseIT {
  private static final String APP = "/home/runbook/sample";
  private static final int PORT = 18080;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static Fleet fleet;
  private static SampleRuns sample;
  private static Path inventory;
  private static Path runbook;

  @BeforeAll
  static void production() throws Exception {
    fleet = Fleet.start(3);
    sample = new SampleRuns(fleet, tmp);
    inventory = sample.inventory(APP, PORT, h -> h.name().equals("h3") ? "          mode: legacy\n" : "");
    assertThat(sample.apply("install-sample.yaml", inventory).code()).as("install 1.2.3").isZero();
    Run backup = sample.apply("backup-sample.yaml", inventory);
    assertThat(backup.code()).as(backup.all()).isZero();
    runbook = twoModes(SampleRuns.REPO.resolve("runbooks/upgrade-v2.yaml"), tmp.resolve("upgrade-v2-two-modes.yaml"));
  }

  @AfterAll
  static void stop() {
    if (fleet != null) fleet.close();
  }

  /** upgrade-v2.yaml with its binary mode also as mode 'legacy', and release_src made absolute. */
  static Path twoModes(Path source, Path target) throws Exception {
    String y = Files.readString(source);
    int modes = y.indexOf("\nmodes:\n") + "\nmodes:\n".length();
    // The binary block ends where the next mode (or its comment) starts, two spaces in.
    java.util.regex.Matcher next = java.util.regex.Pattern.compile("\n  [#a-z]").matcher(y);
    assertThat(next.find(modes + 1)).as("a mode after binary").isTrue();
    int end = next.start() + 1;
    String binary = y.substring(modes, end);
    assertThat(binary).startsWith("  binary:\n");
    String legacy = binary.replaceFirst("^  binary:", "  legacy:");
    String out = y.substring(0, end) + legacy + "\n" + y.substring(end);
    out = out.replace("release_src: ../samples/releases/", "release_src: " + SampleRuns.REPO.resolve("samples/releases") + "/");
    Files.writeString(target, out);
    return target;
  }

  @Test
  void rehearsesUpgradeAndRollbackOnDisposableContainersWithoutTouchingProduction() throws Exception {
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) {
      before.put(h.name(), SampleRuns.snapshot(h, APP) + h.exec("sh", "-c", "cd " + APP + " && find backups -type f | sort | xargs sha256sum"));
      h.exec("sh", "-c", "touch /tmp/rehearse-marker && sleep 1");
      logCommands(h);
    }

    // Watch the daemon for this test's rehearsal containers while the rehearsal runs.
    DockerClient docker = DockerClients.local();
    List<String> seen = new ArrayList<>();
    CompletableFuture<Void> watcher = CompletableFuture.runAsync(() -> {
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
        docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(RehearsalContainers.LABEL)).exec()
            .forEach(c -> {
              synchronized (seen) {
                String n = c.getNames()[0];
                if (!seen.contains(n)) seen.add(n);
              }
            });
        if (Files.exists(sample.stateDir().resolve("rehearsal-done"))) return;
        try {
          Thread.sleep(300);
        } catch (InterruptedException e) {
          return;
        }
      }
    });

    Run run = sample.cli("rehearse", null, runbook.toString(), "-i", inventory.toString(),
        "--known-hosts", fleet.knownHostsFile().toString(), "--hosts-per-mode", "1");
    Files.writeString(sample.stateDir().resolve("rehearsal-done"), "");
    watcher.get();
    assertThat(run.code()).as(run.all()).isZero();
    assertThat(run.out()).contains("REHEARSAL").contains("PASSED");

    System.out.println(run.out()); // what an operator sees, kept in the failsafe report
    System.out.println(Files.readString(newestRunDir().resolve("rehearsal.md")));
    JsonNode report = JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile());
    String runId = report.path("run_id").asText();

    // Containers: one per mode (h1 binary, h3 legacy), labelled with the run, and none left afterwards.
    List<String> names = new ArrayList<>();
    report.path("containers").forEach(n -> names.add(n.asText()));
    assertThat(names).hasSize(2).allMatch(n -> n.startsWith("runbook-rehearsal-" + runId));
    assertThat(names).anyMatch(n -> n.endsWith("-h1")).anyMatch(n -> n.endsWith("-h3"));
    synchronized (seen) {
      assertThat(seen).as("the watcher saw the containers during the run")
          .anyMatch(n -> n.contains(runId + "-h1")).anyMatch(n -> n.contains(runId + "-h3"));
    }
    assertThat(docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(RehearsalContainers.LABEL, runId)).exec()).as("docker ps -a by label").isEmpty();

    // Upgrade and rollback both passed; the rollback brought the checksums back.
    assertThat(report.path("passed").asBoolean()).isTrue();
    assertThat(report.path("upgrade").path("exit_code").asInt()).isZero();
    for (String h : List.of("h1", "h3")) {
      JsonNode host = report.path("hosts").path(h);
      assertThat(host.path("rollback_restored").asBoolean()).as(h + " restored").isTrue();
      assertThat(host.path("verified_files").asInt()).as(h).isGreaterThan(5);
      assertThat(host.path("restored_backup").asText()).as(h).matches(APP + "/backups/.+/sample\\.tar\\.gz");
      assertThat(host.path("redacted_vars").toString()).contains("session_secret", "sudo_mode_secret")
          .doesNotContain("fleet-session-secret");
    }
    assertThat(report.path("hosts").path("h1").path("mode").asText()).isEqualTo("binary");
    assertThat(report.path("hosts").path("h3").path("mode").asText()).isEqualTo("legacy");
    assertThat(Files.readString(newestRunDir().resolve("inventory.yaml"))).doesNotContain("fleet-session-secret");

    // The downtime the report predicts is exactly the journal's measured steps, recomputed here.
    List<JsonNode> journal = journal(runId);
    for (String h : List.of("h1", "h3")) {
      JsonNode d = report.path("hosts").path(h).path("downtime");
      assertThat(d.path("measured").asBoolean()).isTrue();
      List<String> steps = new ArrayList<>();
      d.path("steps").forEach(s -> steps.add(s.asText()));
      assertThat(steps).as(h + " downtime steps").first().isEqualTo("Stop the service");
      assertThat(steps).last().isEqualTo("/_health reports 2.0.0");
      Instant start = null;
      Instant end = null;
      for (JsonNode e : journal) {
        if (!e.path("host").asText().equals(h) || e.path("rollback").asBoolean()) continue;
        if (e.path("event").asText().equals("step_started") && e.path("index").asInt() == d.path("from_step_index").asInt()
            && start == null) start = Instant.parse(e.path("at").asText());
        if (e.path("event").asText().equals("step_finished") && e.path("index").asInt() == d.path("to_step_index").asInt()
            && end == null) end = Instant.parse(e.path("at").asText());
      }
      assertThat(start).isNotNull();
      assertThat(end).isNotNull();
      long fromJournal = Duration.between(start, end).toMillis();
      assertThat(d.path("millis").asLong()).as(h + " downtime = journal").isEqualTo(fromJournal).isPositive();
      assertThat(report.path("modes").path(report.path("hosts").path(h).path("mode").asText()).path("downtimeMs").asLong())
          .isEqualTo(fromJournal);
    }
    // Fleet forecast: 3 targeted hosts under serial [1, 25%, 100%] → 3 batches of one host each.
    JsonNode f = report.path("forecast");
    assertThat(f.path("hosts").asInt()).isEqualTo(3);
    assertThat(f.path("batches")).hasSize(3);
    long binary = report.path("modes").path("binary").path("downtimeMs").asLong();
    long legacy = report.path("modes").path("legacy").path("downtimeMs").asLong();
    assertThat(f.path("hostDowntimeMs").asLong()).isEqualTo(2 * binary + legacy);
    assertThat(f.path("fullOutageMs").path("legacy").asLong()).as("h3 is the only legacy host").isEqualTo(legacy);
    assertThat(f.path("fullOutageMs").path("binary").asLong()).as("binary hosts go one at a time").isZero();
    assertThat(journal).as("the rollback continued the rehearsal's journal, as runbook rollback does")
        .anyMatch(e -> e.path("event").asText().equals("run_resumed"));

    // Production: byte for byte as before, no new files, no lock taken, still serving 1.2.3.
    for (SshHost h : fleet.hosts()) {
      String after = SampleRuns.snapshot(h, APP) + h.exec("sh", "-c", "cd " + APP + " && find backups -type f | sort | xargs sha256sum");
      assertThat(after).as(h.name() + " unchanged").isEqualTo(before.get(h.name()));
      assertThat(h.exec("sh", "-c", "find " + APP + " /var/tmp -newer /tmp/rehearse-marker -not -path '" + APP + "/log*'"))
          .as(h.name() + ": nothing written").isEmpty();
      assertThat(SampleRuns.health(h, PORT)).isEqualTo("1.2.3");
    }

    // Every command the rehearsal ran on production (sshd's ForceCommand logged them): reads only.
    for (SshHost h : fleet.hosts()) {
      List<String> commands = List.of(h.readFile(COMMAND_LOG).split("\n---\n"));
      if (h.name().equals("h2")) {
        assertThat(h.readFile(COMMAND_LOG)).as("h2 was not rehearsed, so never contacted").isEmpty();
        continue;
      }
      assertThat(commands).as(h.name() + " commands").hasSize(2);
      assertThat(commands.get(0)).contains("for p in ").contains("[ -e \"$p\" ] && printf");
      assertThat(commands.get(1)).contains("tar czf - --numeric-owner -C / --no-recursion");
      assertThat(String.join("\n", commands)).doesNotContain("runbook.lock", "mkdir", "rm ", "mv ", "sampledctl");
    }

    // apply and plan now say the plan was rehearsed.
    Run plan = sample.cli("plan", null, runbook.toString(), "-i", inventory.toString());
    assertThat(plan.out()).contains("rehearsed on ").contains("passed (plan " + report.path("plan_hash").asText().substring(0, 8));
  }

  @Test
  void aFailedRehearsalSaysSoKeepsProductionAsItWasAndStillTearsDown() throws Exception {
    // The second mode's verify expects a version nobody runs: its rehearsal host fails and rolls back.
    String y = Files.readString(runbook);
    int legacy = y.indexOf("  legacy:\n");
    String broken = y.substring(0, legacy) + y.substring(legacy)
        .replaceFirst("json: \\{status: ok, version: \"\\[=target_version\\]\"\\}", "json: {status: ok, version: \"9.9.9\"}");
    assertThat(broken).isNotEqualTo(y);
    Path rb = Files.writeString(tmp.resolve("upgrade-v2-broken-legacy.yaml"), broken);
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) before.put(h.name(), SampleRuns.snapshot(h, APP));

    Run run = sample.cli("rehearse", null, rb.toString(), "-i", inventory.toString(),
        "--known-hosts", fleet.knownHostsFile().toString());
    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertThat(run.out()).contains("FAILED").contains("upgrade:  FAILED");

    Path dir;
    try (var dirs = Files.list(sample.stateDir().resolve("runs"))) {
      dir = dirs.filter(d -> {
        try {
          return Files.exists(d.resolve("rehearsal.json"))
              && JSON.readTree(d.resolve("rehearsal.json").toFile()).path("runbook").asText().endsWith("broken-legacy.yaml");
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).findFirst().orElseThrow();
    }
    JsonNode report = JSON.readTree(dir.resolve("rehearsal.json").toFile());
    assertThat(report.path("passed").asBoolean()).isFalse();
    assertThat(report.path("upgrade").path("hosts").path("h3").asText()).startsWith("rolled back");
    // Both rehearsal hosts are back where they started: h3 by its own rollback, h1 by the rollback of the run.
    assertThat(report.path("hosts").path("h1").path("rollback_restored").asBoolean()).isTrue();
    assertThat(report.path("hosts").path("h3").path("rollback_restored").asBoolean()).isTrue();
    DockerClient docker = DockerClients.local();
    assertThat(docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(RehearsalContainers.LABEL, report.path("run_id").asText())).exec()).isEmpty();
    for (SshHost h : fleet.hosts()) {
      assertThat(SampleRuns.snapshot(h, APP)).as(h.name()).isEqualTo(before.get(h.name()));
    }
    Run plan = sample.cli("plan", null, rb.toString(), "-i", inventory.toString());
    assertThat(plan.out()).contains("warning: the rehearsal on ").contains("FAILED");
  }

  static final String COMMAND_LOG = "/tmp/rehearse-commands.log";

  /** From now on sshd runs every command of this host through a wrapper that appends it to a log first. */
  static void logCommands(SshHost h) {
    h.exec("sh", "-c", "printf '%s\\n' '#!/bin/sh' 'printf \"%s\\n---\\n\" \"$SSH_ORIGINAL_COMMAND\" >> " + COMMAND_LOG + "'"
        + " 'exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"' > /usr/local/bin/rb-log && chmod 755 /usr/local/bin/rb-log"
        + " && : > " + COMMAND_LOG + " && chmod 666 " + COMMAND_LOG
        + " && echo 'ForceCommand /usr/local/bin/rb-log' >> /etc/ssh/sshd_config.d/runbook.conf && kill -HUP 1");
  }

  private static Path newestRunDir() throws Exception {
    try (var dirs = Files.list(sample.stateDir().resolve("runs"))) {
      return dirs.filter(d -> Files.exists(d.resolve("rehearsal.json"))).sorted().reduce((a, b) -> b).orElseThrow();
    }
  }

  private static List<JsonNode> journal(String runId) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(sample.stateDir().resolve("runs").resolve(runId).resolve("journal.jsonl"))) {
      out.add(JSON.readTree(line));
    }
    return out;
  }
}
