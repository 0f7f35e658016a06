package io.runbook.rehearsal;

import static io.runbook.testing.DockerHost.docker;
import static io.runbook.testing.DockerHost.dockerResult;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.DockerHost;
import io.runbook.testing.Fleet;
import io.runbook.testing.Ports;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import io.runbook.transport.DockerClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbook rehearse} of {@code runbooks/upgrade-v2.yaml} against real SSH "production" hosts
 * in two modes, with real rehearsal containers on the real Docker daemon: h1 and h2 run the sample
 * service as a binary (SSH hosts of a {@link Fleet}), h3 as a Docker Compose project ({@link
 * DockerHost}: the daemon is this machine's, the registry the loopback one), installed by
 * install-sample-compose.yaml. h3's rehearsal host drives the same daemon as h3 itself, so the test
 * also checks that the rehearsal kept to its own project, volume and port, and left nothing behind.
 */
class RehearseIT {
  private static final String APP = "/home/runbook/sample";
  private static final int PORT = 18080;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RUNBOOK = SampleRuns.REPO.resolve("runbooks/upgrade-v2.yaml");

  @TempDir static Path tmp;
  @RegisterExtension private static final Fleet fleet = Fleet.of(2);
  private static DockerHost h3;
  private static SampleRuns sample;
  private static Path inventory;
  private static Path knownHosts;
  private static String project;
  private static int composePort;
  private static String composeApp;

  @BeforeAll
  static void production() throws Exception {
    h3 = DockerHost.start(true);
    // what the daemon has is shared with the other tests; the rehearsal must not make this name
    dockerResult("rmi", "-f", "sampled:rollback");
    sample = new SampleRuns(fleet, tmp);
    project = "rbrh" + System.nanoTime();
    composePort = Ports.free();
    composeApp = h3.shared().resolve("app").toString();
    inventory = inventory();
    knownHosts =
        Files.writeString(
            tmp.resolve("known_hosts"),
            Files.readString(fleet.knownHostsFile()) + h3.knownHostsLine() + "\n");
    Run install =
        sample.apply(
            "install-sample.yaml",
            inventory,
            "--known-hosts",
            knownHosts.toString(),
            "-l",
            "h1,h2");
    assertThat(install.code()).as("install 1.2.3: " + install.all()).isZero();
    Run compose =
        sample.apply(
            "install-sample-compose.yaml",
            inventory,
            "--known-hosts",
            knownHosts.toString(),
            "-l",
            "h3");
    assertThat(compose.code()).as("install 1.2.3 with compose: " + compose.all()).isZero();
    Run backup =
        sample.apply("backup-sample.yaml", inventory, "--known-hosts", knownHosts.toString());
    assertThat(backup.code()).as(backup.all()).isZero();
  }

  @AfterAll
  static void stop() {
    if (project != null) {
      String ids =
          dockerResult("ps", "-aq", "--filter", "label=com.docker.compose.project=" + project)
              .out()
              .strip();
      for (String id : ids.split("\\s+", -1)) {
        if (!id.isEmpty()) dockerResult("rm", "-f", id);
      }
      dockerResult("volume", "rm", "-f", project + "_data");
      dockerResult("network", "rm", project + "_default");
      dockerResult(
          "rmi",
          "-f",
          DockerHost.REGISTRY + "/sampled:1.2.3",
          DockerHost.REGISTRY + "/sampled:2.0.0",
          "sampled:rollback");
    }
    if (h3 != null) h3.close();
  }

  /**
   * The fleet's binary hosts (group vars as SampleRuns writes them) and h3, a compose host, with
   * its own.
   */
  static Path inventory() throws Exception {
    Path binary = sample.inventory(APP, PORT, h -> "");
    String h3Lines =
        """
                h3:
                  mode: compose
                  app_dir: %s
                  compose_project: %s
                  port: %d
                  registry: %s
                  registry_user: %s
                  registry_password: %s
        """
                .formatted(
                    composeApp,
                    project,
                    composePort,
                    DockerHost.REGISTRY,
                    DockerHost.REGISTRY_USER,
                    DockerHost.REGISTRY_PASSWORD)
            + h3.inventoryLines("          ");
    return Files.writeString(tmp.resolve("production.yaml"), Files.readString(binary) + h3Lines);
  }

  @Test
  void rehearsesUpgradeAndRollbackInBothModesOnDisposableContainersWithoutTouchingProduction()
      throws Exception {
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) {
      before.put(h.name(), binarySnapshot(h));
      h.exec("sh", "-c", "touch /tmp/rehearse-marker && sleep 1");
      logCommands(h::exec);
    }
    String composeContainer = composeContainer();
    before.put("h3", composeSnapshot());
    h3.exec("sh", "-c", "touch /tmp/rehearse-marker && sleep 1");
    logCommands(h3::exec);

    // Watch the daemon for this test's rehearsal containers and volumes while the rehearsal runs.
    DockerClient docker = DockerClients.local();
    List<String> seen = new ArrayList<>();
    CompletableFuture<Void> watcher =
        CompletableFuture.runAsync(
            () -> {
              long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
              while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
                List<String> now = new ArrayList<>();
                docker
                    .listContainersCmd()
                    .withShowAll(true)
                    .exec()
                    .forEach(c -> now.add(c.getNames()[0]));
                var volumes = docker.listVolumesCmd().exec().getVolumes();
                if (volumes != null) volumes.forEach(v -> now.add("volume " + v.getName()));
                synchronized (seen) {
                  now.stream()
                      .filter(n -> n.contains("runbook-rehearsal-") && !seen.contains(n))
                      .forEach(seen::add);
                }
                if (Files.exists(sample.stateDir().resolve("rehearsal-done"))) return;
                try {
                  Thread.sleep(300);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });

    Run run =
        sample.cli(
            "rehearse",
            null,
            RUNBOOK.toString(),
            "-i",
            inventory.toString(),
            "--known-hosts",
            knownHosts.toString(),
            "--hosts-per-mode",
            "1");
    Files.writeString(sample.stateDir().resolve("rehearsal-done"), "");
    watcher.get();
    assertThat(run.code()).as(run.all()).isZero();
    assertThat(run.out()).contains("REHEARSAL").contains("PASSED");

    System.out.println(run.out()); // what an operator sees, kept in the failsafe report
    System.out.println(Files.readString(newestRunDir().resolve("rehearsal.md")));
    JsonNode report = JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile());
    String runId = report.path("run_id").asText();
    String prefix = "runbook-rehearsal-" + runId;

    // Containers: one per mode (h1 binary, h3 compose), labelled with the run; h3's made a compose
    // project of
    // its own (container and volume named after it); none of it is left afterwards.
    List<String> names = new ArrayList<>();
    report.path("containers").forEach(n -> names.add(n.asText()));
    assertThat(names).containsExactlyInAnyOrder(prefix + "-h1", prefix + "-h3");
    synchronized (seen) {
      assertThat(seen)
          .as("the watcher saw the rehearsal's containers and volumes during the run")
          .contains(
              "/" + prefix + "-h1",
              "/" + prefix + "-h3",
              "volume " + prefix + "-h3-dir",
              "volume " + prefix + "-h3_data")
          .anyMatch(n -> n.matches("/" + prefix + "-h3_sampled_1"));
    }
    assertThat(RehearsalContainers.everything(docker, runId))
        .as("docker ps -a: the run's containers and what they made")
        .isEmpty();
    assertThat(docker("ps", "-a", "--format", "{{.Names}}")).doesNotContain(runId);
    assertThat(docker("volume", "ls", "--format", "{{.Name}}"))
        .as("docker volume ls")
        .doesNotContain(runId);
    assertThat(docker("network", "ls", "--format", "{{.Name}}")).doesNotContain(runId);
    assertThat(docker("images", "--format", "{{.Repository}}:{{.Tag}}"))
        .as("the rollback image name")
        .doesNotContain(runId)
        .doesNotContain("sampled:rollback");
    assertThat(run.out())
        .contains(
            "Removed 2 rehearsal container(s) and what they made: 1 container(s), 2 volume(s),"
                + " 1 image name(s)");

    // Upgrade and rollback both passed in both modes; the rollback brought the checksums back.
    assertThat(report.path("passed").asBoolean()).isTrue();
    assertThat(report.path("upgrade").path("exit_code").asInt()).isZero();
    assertThat(report.path("rollback_passed").asBoolean()).isTrue();
    for (String h : List.of("h1", "h3")) {
      JsonNode host = report.path("hosts").path(h);
      assertThat(host.path("rollback_restored").asBoolean()).as(h + " restored").isTrue();
      assertThat(host.path("redacted_vars").toString())
          .contains("session_secret", "sudo_mode_secret")
          .doesNotContain("fleet-session-secret");
    }
    JsonNode b = report.path("hosts").path("h1");
    assertThat(b.path("mode").asText()).isEqualTo("binary");
    assertThat(b.path("verified_files").asInt()).isGreaterThan(5);
    assertThat(b.path("restored_backups"))
        .singleElement()
        .satisfies(a -> assertThat(a.asText()).matches(APP + "/backups/.+/sample\\.tar\\.gz"));
    JsonNode c = report.path("hosts").path("h3");
    assertThat(c.path("mode").asText()).isEqualTo("compose");
    assertThat(c.path("verified_files").asInt())
        .as("config.json, compose.yaml, sample.db in the volume")
        .isGreaterThanOrEqualTo(3);
    List<String> restored = new ArrayList<>();
    c.path("restored_backups").forEach(a -> restored.add(a.asText()));
    assertThat(restored)
        .as("the newest backups of backup-sample.yaml, by production's paths")
        .hasSize(2)
        .anyMatch(a -> a.matches(composeApp + "/backups/[^/]+/" + project + "_data\\.tar\\.gz"))
        .anyMatch(a -> a.matches(composeApp + "/backups/[^/]+/config\\.tar\\.gz"));
    assertThat(c.path("redacted_vars").toString())
        .as("passed on by rehearsal.vars")
        .doesNotContain("registry_password");
    String rehearsalInventory = Files.readString(newestRunDir().resolve("inventory.yaml"));
    assertThat(rehearsalInventory)
        .doesNotContain("fleet-session-secret")
        .contains("compose_project: " + prefix + "-h3")
        .contains("app_dir: /var/lib/docker/volumes/" + prefix + "-h3-dir/_data")
        .doesNotContain("port: " + composePort);

    // The downtime the report predicts is exactly the journal's measured steps, recomputed here.
    List<JsonNode> journal = journal(runId);
    for (String h : List.of("h1", "h3")) {
      JsonNode d = report.path("hosts").path(h).path("downtime");
      assertThat(d.path("measured").asBoolean()).as(h).isTrue();
      List<String> steps = new ArrayList<>();
      d.path("steps").forEach(s -> steps.add(s.asText()));
      assertThat(steps).as(h + " downtime steps").first().isEqualTo("Stop the service");
      assertThat(steps).last().isEqualTo("/_health reports 2.0.0");
      Instant start = null;
      Instant end = null;
      for (JsonNode e : journal) {
        if (!e.path("host").asText().equals(h) || e.path("rollback").asBoolean()) continue;
        if (e.path("event").asText().equals("step_started")
            && e.path("index").asInt() == d.path("from_step_index").asInt()
            && start == null) start = Instant.parse(e.path("at").asText());
        if (e.path("event").asText().equals("step_finished")
            && e.path("index").asInt() == d.path("to_step_index").asInt()
            && end == null) end = Instant.parse(e.path("at").asText());
      }
      assertThat(start).as(h).isNotNull();
      assertThat(end).as(h).isNotNull();
      long fromJournal = Duration.between(start, end).toMillis();
      assertThat(d.path("millis").asLong())
          .as(h + " downtime = journal")
          .isEqualTo(fromJournal)
          .isPositive();
      assertThat(
              report
                  .path("modes")
                  .path(report.path("hosts").path(h).path("mode").asText())
                  .path("downtimeMs")
                  .asLong())
          .as("the forecast's figure: what production's clients will see")
          .isEqualTo(d.path("predicted_client_ms").asLong());
      assertThat(d.path("predicted_client_ms").asLong())
          .isPositive()
          .isLessThanOrEqualTo(d.path("client_ms").asLong());
    }
    // Fleet forecast: 3 targeted hosts under serial [1, 25%, 100%] → 3 batches of one host each.
    JsonNode f = report.path("forecast");
    assertThat(f.path("hosts").asInt()).isEqualTo(3);
    assertThat(f.path("batches")).hasSize(3);
    long binary = report.path("modes").path("binary").path("downtimeMs").asLong();
    long compose = report.path("modes").path("compose").path("downtimeMs").asLong();
    assertThat(f.path("hostDowntimeMs").asLong()).isEqualTo(2 * binary + compose);
    assertThat(f.path("fullOutageMs").path("compose").asLong())
        .as("h3 is the only compose host")
        .isEqualTo(compose);
    assertThat(f.path("fullOutageMs").path("binary").asLong())
        .as("binary hosts go one at a time")
        .isZero();
    assertThat(journal)
        .as("the rollback continued the rehearsal's journal, as runbook rollback does")
        .anyMatch(e -> e.path("event").asText().equals("run_resumed"));

    // Production: byte for byte as before, no new files, no lock taken, still serving 1.2.3 — h3
    // from the
    // same container, whose image and volume the rehearsal's project on the same daemon left alone.
    for (SshHost h : fleet.hosts()) {
      assertThat(binarySnapshot(h)).as(h.name() + " unchanged").isEqualTo(before.get(h.name()));
      assertThat(
              h.exec(
                  "sh",
                  "-c",
                  "find "
                      + APP
                      + " /var/tmp -newer /tmp/rehearse-marker -not -path '"
                      + APP
                      + "/log*'"))
          .as(h.name() + ": nothing written")
          .isEmpty();
      assertThat(SampleRuns.health(h, PORT)).isEqualTo("1.2.3");
    }
    assertThat(composeSnapshot()).as("h3 unchanged").isEqualTo(before.get("h3"));
    assertThat(composeContainer()).as("h3's service was not recreated").isEqualTo(composeContainer);
    assertThat(h3.exec("sh", "-c", "find " + composeApp + " /var/tmp -newer /tmp/rehearse-marker"))
        .as("h3: nothing written")
        .isEmpty();
    assertThat(composeHealth()).isEqualTo("1.2.3");

    // Every command the rehearsal ran on production (sshd's ForceCommand logged them): reads only.
    Map<String, String> logs = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) logs.put(h.name(), h.readFile(COMMAND_LOG));
    logs.put("h3", h3.exec("cat", COMMAND_LOG));
    assertThat(logs.get("h2")).as("h2 was not rehearsed, so never contacted").isEmpty();
    for (String h : List.of("h1", "h3")) {
      List<String> commands = List.of(logs.get(h).split("\n---\n"));
      assertThat(commands).as(h + " commands").hasSize(2);
      assertThat(commands.get(0)).contains("for p in ").contains("[ -e \"$p\" ] && printf");
      assertThat(commands.get(1)).contains("tar czf - --numeric-owner -C / --no-recursion");
      assertThat(String.join("\n", commands))
          .doesNotContain(
              "runbook.lock",
              "mkdir",
              "rm ",
              "mv ",
              "sampledctl",
              "docker-compose",
              "docker.sock",
              " up ");
    }

    // apply and plan now say the plan was rehearsed.
    Run plan = sample.cli("plan", null, RUNBOOK.toString(), "-i", inventory.toString());
    assertThat(plan.out())
        .contains("rehearsed on ")
        .contains("passed (plan " + report.path("plan_hash").asText().substring(0, 8));

    // One verdict everywhere (issue 14): console, rehearsal.md, history, show and the HTML report
    // say it
    // passed, on disposable copies; the report's header has the figures and no "rolled back" badge
    // or box.
    assertThat(run.out())
        .contains("REHEARSAL PASSED · run " + runId)
        .contains("on disposable copies: h1 → " + prefix + "-h1, h3 → " + prefix + "-h3")
        .contains("rollback: restored the checksums of data and config");
    assertThat(Files.readString(newestRunDir().resolve("rehearsal.md")))
        .contains("verdict: **rehearsal passed** (exit 0)");
    assertThat(report.path("verdict").path("state").asText()).isEqualTo("passed");
    Run history = sample.cli("history", null);
    assertThat(history.out().lines().filter(l -> l.startsWith(runId)).findFirst().orElseThrow())
        .contains("rehearsal passed (on disposable copies)");
    Run show = sample.cli("show", null, runId);
    assertThat(show.out())
        .startsWith("run " + runId + " · rehearsal passed (exit 0): ran on disposable copies");
    Path html = tmp.resolve("rehearsal-" + runId + ".html");
    Run page = sample.cli("report", null, runId, "-o", html.toString());
    assertThat(page.code()).as(page.all()).isZero();
    String header =
        Files.readString(html).replaceAll("(?s).*(<header class=\"top\">.*?</header>).*", "$1");
    assertThat(header)
        .contains("REHEARSAL PASSED · exit 0")
        .contains("o-succeeded")
        .contains(prefix + "-h1")
        .contains("upgrade passed in")
        .contains("rollback ")
        .contains("h1 down ")
        .doesNotContain("rolled back");
    assertThat(Files.readString(html))
        .doesNotContain("class=\"problems\"")
        .contains("(the whole rehearsal:");
    // the steps of the report: gate rows numbered from 1, the kubernetes-only gate step not listed
    // for h1
    List<String> gate = new ArrayList<>();
    report
        .path("hosts")
        .path("h1")
        .path("steps")
        .forEach(
            st -> {
              if (st.path("phase").asText().equals("gate"))
                gate.add(st.path("index").asInt() + " " + st.path("name").asText());
            });
    assertThat(gate).containsExactly("1 /_health still reports 2.0.0", "3 Soak");
  }

  /**
   * Issue 14, observations 7 and 2: a newest backup older than the installed release is a warning
   * in the verdict, or with --require-fresh-backup a failed rehearsal; the newer failed record then
   * answers for the plan, not the older pass.
   */
  @Test
  void aBackupOlderThanWhatIsInstalledIsAWarningOrARefusal() throws Exception {
    SshHost h2 = fleet.hosts().get(1);
    String mtime = h2.exec("stat", "-c", "%y", APP + "/current").strip();
    // as after a real upgrade: the release link changed after the newest backup was taken
    h2.exec("sh", "-c", "sleep 1; touch -h " + APP + "/current");
    try {
      Run warned =
          sample.cli(
              "rehearse",
              null,
              RUNBOOK.toString(),
              "-i",
              inventory.toString(),
              "--known-hosts",
              knownHosts.toString(),
              "--limit",
              "h2");
      assertThat(warned.code()).as(warned.all()).isZero();
      assertThat(warned.out())
          .contains("[h2] newest backup: run ")
          .contains("REHEARSAL PASSED")
          .contains("warning: h2: the newest backup (run ")
          .contains("is older than what is installed");
      JsonNode report = JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile());
      assertThat(report.path("verdict").path("warnings").toString())
          .contains("older than what is installed");
      assertThat(report.path("hosts").path("h2").path("backup").path("stale").asBoolean()).isTrue();
      assertThat(report.path("hosts").path("h2").path("backup").path("age_s").asLong())
          .isNotNegative();
      Run plan =
          sample.cli("plan", null, RUNBOOK.toString(), "-i", inventory.toString(), "--limit", "h2");
      assertThat(plan.out()).contains("passed (plan ").contains("warnings: h2: the newest backup");

      Run refused =
          sample.cli(
              "rehearse",
              null,
              RUNBOOK.toString(),
              "-i",
              inventory.toString(),
              "--known-hosts",
              knownHosts.toString(),
              "--limit",
              "h2",
              "--require-fresh-backup");
      assertThat(refused.code()).as(refused.all()).isEqualTo(2);
      assertThat(refused.out())
          .contains("REHEARSAL FAILED")
          .contains("(--require-fresh-backup)")
          .contains("upgrade:  did not run");
      String refusedId =
          JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile()).path("run_id").asText();
      assertThat(RehearsalContainers.everything(DockerClients.local(), refusedId)).isEmpty();
      Run after =
          sample.cli("plan", null, RUNBOOK.toString(), "-i", inventory.toString(), "--limit", "h2");
      assertThat(after.out())
          .contains("warning: the rehearsal on ")
          .contains("FAILED")
          .contains(refusedId)
          .doesNotContain("passed (plan ");
    } finally {
      h2.exec("touch", "-h", "-d", mtime, APP + "/current");
    }
  }

  /**
   * Issue 14, observation 4: Ctrl-C during the upgrade used to remove the copy under the running
   * step ("Removal In Progress", ROLLBACK FAILED). Now the step ends, the run is rolled back, then
   * the copy goes; the rehearsal is recorded as interrupted.
   */
  @Test
  void ctrlCLetsTheStepEndRollsBackThenTearsDownAndRecordsAnInterruptedRehearsal()
      throws Exception {
    Path log = tmp.resolve("rehearse-ctrl-c.log");
    // SIGINT at its default for the controller, whoever launched the suite (see RolloutIT)
    Process controller =
        Cli.child(
                log,
                List.of("env", "--default-signal=INT"),
                sample.args(
                    "rehearse",
                    null,
                    RUNBOOK.toString(),
                    "-i",
                    inventory.toString(),
                    "--known-hosts",
                    knownHosts.toString(),
                    "--limit",
                    "h1"))
            .start();
    // checked below
    Await.within(
        Duration.ofMinutes(4),
        () -> Files.readString(log).contains("Back up the database") || !controller.isAlive());
    assertThat(Files.readString(log)).as("the upgrade got going").contains("Back up the database");
    new ProcessBuilder("kill", "-INT", Long.toString(controller.pid())).start().waitFor();
    assertThat(controller.waitFor(5, TimeUnit.MINUTES)).isTrue();
    String out = Files.readString(log);
    System.out.println(out);
    assertThat(controller.exitValue()).as(out).isEqualTo(130);
    assertThat(out)
        .contains("REHEARSAL INTERRUPTED")
        .contains("rollback: restored the checksums of data and config")
        .doesNotContain("Removal In Progress")
        .doesNotContain("ROLLBACK FAILED")
        .doesNotContain("not undone")
        .contains("Removed 1 rehearsal container(s)");
    JsonNode report = JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile());
    String runId = report.path("run_id").asText();
    assertThat(report.path("verdict").path("state").asText()).isEqualTo("interrupted");
    assertThat(RehearsalContainers.everything(DockerClients.local(), runId)).isEmpty();
    assertThat(
            sample
                .cli("history", null)
                .out()
                .lines()
                .filter(l -> l.startsWith(runId))
                .findFirst()
                .orElseThrow())
        .contains("rehearsal interrupted (on disposable copies)");
    assertThat(
            sample
                .cli("plan", null, RUNBOOK.toString(), "-i", inventory.toString(), "--limit", "h1")
                .out())
        .contains("was INTERRUPTED")
        .contains(runId);
  }

  /**
   * Issue 14, observations 5 and 6: with --keep, no file of the kept copy (archives opened) holds a
   * production secret; the printed clean-up commands, run as printed, leave nothing of the run.
   */
  @Test
  void keptCopiesHoldNoProductionSecretAndThePrintedCleanupWorks() throws Exception {
    Run run =
        sample.cli(
            "rehearse",
            null,
            RUNBOOK.toString(),
            "-i",
            inventory.toString(),
            "--known-hosts",
            knownHosts.toString(),
            "--limit",
            "h1",
            "--keep");
    assertThat(run.code()).as(run.all()).isZero();
    JsonNode report = JSON.readTree(newestRunDir().resolve("rehearsal.json").toFile());
    String runId = report.path("run_id").asText();
    String copy = "runbook-rehearsal-" + runId + "-h1";
    assertThat(report.path("hosts").path("h1").path("secret_values_replaced_in").toString())
        .as("config.json and the backups holding it")
        .contains(APP + "/config/config.json")
        .contains(".tar.gz");
    for (String secret :
        List.of(
            "fleet-session-secret-0123456789",
            "fleet-sudo-secret-0123456789",
            "fleet-connection-secret-0123456789")) {
      if (secret.startsWith(
          "fleet-session")) { // 1.2.3's config has only this one; the others are 2.0.0's
        assertThat(
                fleet
                    .hosts()
                    .get(0)
                    .exec(
                        "sh",
                        "-c",
                        "grep -rlF " + secret + " " + APP + "/config " + APP + "/backups; true"))
            .as("production has it")
            .contains("config.json");
      }
      String found =
          docker(
              "exec",
              copy,
              "sh",
              "-c",
              "find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune"
                  + " -o -type f -print | while IFS= read -r f; do case \"$f\" in *.tar.gz|*.tgz) zcat \"$f\" 2>/dev/null | grep -aqF "
                  + secret
                  + " && echo \"$f\";; *) grep -aqF "
                  + secret
                  + " \"$f\" && echo \"$f\";; esac; done; true");
      assertThat(found).as("files of the copy holding production's " + secret).isBlank();
    }
    List<String> commands =
        run.out().lines().filter(l -> l.startsWith("  docker ")).map(String::strip).toList();
    assertThat(commands).hasSize(4);
    assertThat(docker("ps", "-a", "--format", "{{.Names}}")).contains(copy);
    for (String c : commands) {
      Process p = new ProcessBuilder("sh", "-c", c).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).as("as printed: " + c + ": " + out).isZero();
    }
    assertThat(RehearsalContainers.everything(DockerClients.local(), runId)).isEmpty();
    assertThat(docker("volume", "ls", "--format", "{{.Name}}")).doesNotContain(runId);
    assertThat(docker("network", "ls", "--format", "{{.Name}}")).doesNotContain(runId);
  }

  @Test
  void aFailedRehearsalSaysSoKeepsProductionAsItWasAndStillTearsDown() throws Exception {
    // The compose mode's verify expects a version nobody runs: its rehearsal host fails and rolls
    // back.
    String y = Files.readString(RUNBOOK);
    String broken =
        y.replace("expected_version: \"[=target_version]\"", "expected_version: 9.9.9")
            .replace(
                "release_src: ../samples/releases/",
                "release_src: " + SampleRuns.REPO.resolve("samples/releases") + "/");
    assertThat(broken).contains("expected_version: 9.9.9").doesNotContain("../samples");
    Path rb = Files.writeString(tmp.resolve("upgrade-v2-broken-compose.yaml"), broken);
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) before.put(h.name(), SampleRuns.snapshot(h, APP));
    before.put("h3", composeSnapshot());

    Run run =
        sample.cli(
            "rehearse",
            null,
            rb.toString(),
            "-i",
            inventory.toString(),
            "--known-hosts",
            knownHosts.toString());
    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertThat(run.out())
        .contains("REHEARSAL FAILED")
        .contains("upgrade:  FAILED")
        .contains("failed: upgrade on h3: rolled back")
        .as("both copies restored: the console says what rehearsal.md says")
        .contains("rollback: restored the checksums of data and config")
        .doesNotContain("did NOT");

    Path dir;
    try (var dirs = Files.list(sample.stateDir().resolve("runs"))) {
      dir =
          dirs.filter(
                  d -> {
                    try {
                      return Files.exists(d.resolve("rehearsal.json"))
                          && JSON.readTree(d.resolve("rehearsal.json").toFile())
                              .path("runbook")
                              .asText()
                              .endsWith("broken-compose.yaml");
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  })
              .findFirst()
              .orElseThrow();
    }
    JsonNode report = JSON.readTree(dir.resolve("rehearsal.json").toFile());
    assertThat(report.path("passed").asBoolean()).isFalse();
    assertThat(report.path("upgrade").path("hosts").path("h3").asText()).startsWith("rolled back");
    // Both rehearsal hosts are back where they started: h3 by its own rollback, h1 by the rollback
    // of the run.
    assertThat(report.path("hosts").path("h1").path("rollback_restored").asBoolean()).isTrue();
    assertThat(report.path("hosts").path("h3").path("rollback_restored").asBoolean()).isTrue();
    String runId = report.path("run_id").asText();
    assertThat(RehearsalContainers.everything(DockerClients.local(), runId)).isEmpty();
    assertThat(docker("volume", "ls", "--format", "{{.Name}}")).doesNotContain(runId);
    for (SshHost h : fleet.hosts()) {
      assertThat(SampleRuns.snapshot(h, APP)).as(h.name()).isEqualTo(before.get(h.name()));
    }
    assertThat(composeSnapshot()).as("h3").isEqualTo(before.get("h3"));
    assertThat(Files.readString(dir.resolve("rehearsal.md")))
        .contains("verdict: **rehearsal failed** (exit 2)");
    Run plan = sample.cli("plan", null, rb.toString(), "-i", inventory.toString());
    assertThat(plan.out())
        .contains("warning: the rehearsal on ")
        .contains("FAILED")
        .contains("upgrade on h3");
    assertThat(
            sample
                .cli("history", null)
                .out()
                .lines()
                .filter(l -> l.startsWith(runId))
                .findFirst()
                .orElseThrow())
        .contains("rehearsal failed (on disposable copies)");
  }

  static final String COMMAND_LOG = "/tmp/rehearse-commands.log";

  /**
   * From now on sshd runs every command of this host through a wrapper that appends it to a log
   * first.
   */
  static void logCommands(Consumer<String[]> rootExec) {
    rootExec.accept(
        new String[] {
          "sh",
          "-c",
          "printf '%s\\n' '#!/bin/sh' 'printf \"%s\\n---\\n\" \"$SSH_ORIGINAL_COMMAND\" >> "
              + COMMAND_LOG
              + "'"
              + " 'exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"' > /usr/local/bin/rb-log && chmod 755 /usr/local/bin/rb-log"
              + " && : > "
              + COMMAND_LOG
              + " && chmod 666 "
              + COMMAND_LOG
              + " && echo 'ForceCommand /usr/local/bin/rb-log' >> /etc/ssh/sshd_config.d/runbook.conf && kill -HUP 1"
        });
  }

  static String binarySnapshot(SshHost h) {
    return SampleRuns.snapshot(h, APP)
        + h.exec("sh", "-c", "cd " + APP + " && find backups -type f | sort | xargs sha256sum");
  }

  /**
   * h3's config, compose file and backups with checksums, its volume's files, and the image its
   * service runs.
   */
  static String composeSnapshot() {
    return h3.exec(
            "sh",
            "-c",
            "cd "
                + composeApp
                + " && find config compose.yaml backups | sort"
                + " && find config compose.yaml backups -type f -exec sha256sum {} + | sort")
        + DockerHost.volumeChecksums(project + "_data", DockerHost.REGISTRY + "/sampled:1.2.3")
        + docker("inspect", "-f", "{{.Image}} {{.State.Running}}", composeContainer());
  }

  static String composeContainer() {
    return docker(
            "ps", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.project=" + project)
        .strip();
  }

  static String composeHealth() {
    return h3.exec("sh", "-c", "curl -sf http://127.0.0.1:" + composePort + "/_health || echo down")
        .replaceAll("(?s).*\"version\": \"([^\"]+)\".*", "$1")
        .strip();
  }

  private static Path newestRunDir() throws Exception {
    try (var dirs = Files.list(sample.stateDir().resolve("runs"))) {
      return dirs.filter(d -> Files.exists(d.resolve("rehearsal.json")))
          .sorted()
          .reduce((a, b) -> b)
          .orElseThrow();
    }
  }

  private static List<JsonNode> journal(String runId) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line :
        Files.readAllLines(
            sample.stateDir().resolve("runs").resolve(runId).resolve("journal.jsonl"))) {
      out.add(JSON.readTree(line));
    }
    return out;
  }
}
