package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.cli.Main;
import io.runbook.testing.Fleet;
import io.runbook.testing.SshHost;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample upgrade over SSH on a fleet of real OpenSSH hosts (Debian containers built locally):
 * {@code runbook apply} as a user runs it, checked on the hosts' own files, databases and /_health.
 */
class FleetUpgradeIT {
  static final Path REPO = Path.of(System.getProperty("runbook.repo", "..")).toAbsolutePath().normalize();
  static final ObjectMapper JSON = new ObjectMapper();
  static Fleet fleet;

  @TempDir Path tmp;

  @BeforeAll
  static void startFleet() {
    fleet = Fleet.start(3);
  }

  @AfterAll
  static void stopFleet() {
    if (fleet != null) fleet.close();
  }

  /** An inventory of the whole fleet in group 'sample', the service under {@code appDir} on {@code port}. */
  Path inventory(String appDir, int port, Function<SshHost, String> extra) throws IOException {
    StringBuilder y = new StringBuilder("""
        all:
          children:
            sample:
              vars:
                mode: binary
                app_dir: %s
                port: %d
                session_secret: fleet-session-secret-0123456789
                sudo_mode_secret: fleet-sudo-secret-0123456789
                connection_initiation_secret: fleet-connection-secret-0123456789
              hosts:
        """.formatted(appDir, port));
    for (SshHost h : fleet.hosts()) {
      y.append("        ").append(h.name()).append(":\n")
          .append("          ansible_host: ").append(h.host()).append('\n')
          .append("          ansible_port: ").append(h.port()).append('\n')
          .append("          ansible_user: ").append(h.user()).append('\n')
          .append("          ansible_ssh_private_key_file: ").append(h.privateKey()).append('\n')
          .append(extra.apply(h));
    }
    Path file = tmp.resolve("fleet.yaml");
    Files.writeString(file, y.toString());
    return file;
  }

  record Run(int code, String out, String err) {}

  Run apply(String runbook, Path inventory, String... more) {
    List<String> args = new ArrayList<>(List.of("apply", REPO.resolve("runbooks").resolve(runbook).toString(),
        "-i", inventory.toString(), "--yes", "--known-hosts", fleet.knownHostsFile().toString(),
        "--state-dir", tmp.resolve("state").toString()));
    args.addAll(List.of(more));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        args.toArray(String[]::new));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static String health(SshHost h, int port) throws IOException {
    return JSON.readTree(h.exec("curl", "-sf", "http://127.0.0.1:" + port + "/_health")).path("version").asText();
  }

  @Test
  void upgradesEveryHostOverSsh() throws Exception {
    Path inv = inventory("/home/runbook/sample-e2e", 8080, h -> "");
    Run install = apply("install-sample.yaml", inv);
    assertThat(install.code()).as(install.out() + install.err()).isZero();

    Run upgrade = apply("upgrade-v2.yaml", inv, "--forks", "3");

    assertThat(upgrade.code()).as(upgrade.out() + upgrade.err()).isZero();
    for (SshHost h : fleet.hosts()) {
      assertThat(health(h, 8080)).as(h.name()).isEqualTo("2.0.0");
      assertThat(h.exec("readlink", "/home/runbook/sample-e2e/current").strip()).isEqualTo("releases/2.0.0");
      assertThat(h.exec("sqlite3", "/home/runbook/sample-e2e/data/sample.db", "SELECT count(*) FROM migrations").strip())
          .isEqualTo("3");
      assertThat(upgrade.out()).containsPattern(h.name() + "\\s+binary\\s+ok");
    }
    stopService("/home/runbook/sample-e2e");
  }

  @Test
  void aFailedMigrationRollsOneHostBackWhileTheOthersUpgrade() throws Exception {
    String app = "/home/runbook/sample-fail";
    Path inv = inventory(app, 8081, h -> "");
    assertThat(apply("install-sample.yaml", inv).code()).isZero();
    SshHost broken = fleet.host(1);
    // The seed's partly applied migration: messages.thread_id exists, so 003_threads.sql fails there.
    broken.exec("runuser", "-u", "runbook", "--", "sqlite3", app + "/data/sample.db",
        "ALTER TABLE messages ADD COLUMN thread_id INTEGER");
    String before = snapshot(broken, app);

    Run upgrade = apply("upgrade-v2.yaml", inv, "--forks", "3");

    assertThat(upgrade.code()).as(upgrade.out() + upgrade.err()).isEqualTo(2);
    assertThat(snapshot(broken, app)).isEqualTo(before);
    assertThat(health(broken, 8081)).isEqualTo("1.2.3");
    for (SshHost h : fleet.hosts()) {
      if (h != broken) assertThat(health(h, 8081)).as(h.name()).isEqualTo("2.0.0");
    }
    assertThat(upgrade.out()).containsPattern(broken.name() + "\\s+binary\\s+rolled back")
        .contains("duplicate column name: thread_id");

    List<JsonNode> journal = journal("upgrade-v2.yaml");
    List<String> forward = new ArrayList<>();
    List<String> undone = new ArrayList<>();
    for (JsonNode e : journal) {
      if (!e.path("event").asText().equals("step_finished") || !e.path("host").asText().equals(broken.name())) continue;
      if (e.path("rollback").asBoolean()) undone.add(e.path("forStep").asText());
      else if (!e.path("result").path("status").asText().equals("FAILED")) forward.add(e.path("name").asText());
    }
    // Every handler undid a step that had completed, and they ran in exactly the reverse order.
    List<String> undoneSteps = undone.stream().filter(s -> !s.isEmpty()).distinct().toList();
    List<String> expected = new ArrayList<>(forward.stream().filter(undoneSteps::contains).toList());
    java.util.Collections.reverse(expected);
    assertThat(undoneSteps).containsExactlyElementsOf(expected).contains(
        "Fetch sampled.py 2.0.0", "Create the release directory",
        "Back up the database and the config, with checksums", "Stop the service");
    assertThat(undone.get(undone.size() - 1)).as("the rollback phase runs last").isEmpty();
    for (SshHost h : fleet.hosts()) stopService(app, h);
  }

  @Test
  void anUnknownHostKeyIsRefusedWithWhatToDo() throws Exception {
    Path inv = inventory("/home/runbook/sample-keys", 8082, h -> "");
    Path emptyKnownHosts = Files.createFile(tmp.resolve("known_hosts"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8),
        "apply", REPO.resolve("runbooks/install-sample.yaml").toString(), "-i", inv.toString(), "--yes",
        "--known-hosts", emptyKnownHosts.toString(), "--state-dir", tmp.resolve("state").toString());
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).isEqualTo(2);
    assertThat(text).contains("UNREACHABLE").contains("ssh-keyscan").containsPattern("h1\\s+binary\\s+unreachable");
    assertThat(fleet.host(0).exec("sh", "-c", "test -e /home/runbook/sample-keys && echo yes || echo no").strip())
        .isEqualTo("no");
  }

  @Test
  void becomeRunsStepsThroughSudo() throws Exception {
    Path inv = inventory("/home/runbook/sample-become", 8083, h -> h == fleet.host(0) ? "          ansible_become: true\n" : "");
    Path rb = Files.writeString(tmp.resolve("become.yaml"), """
        apiVersion: runbook/v1
        kind: Runbook
        name: who am I
        hosts: sample
        phases:
          deploy:
            - name: As the inventory says
              shell: id -un > /tmp/who-inventory-$(id -un)
            - name: As root because the step says so
              shell: id -un > /tmp/who-step
              become: true
            - name: Never as root
              shell: id -un > /tmp/who-never-$(id -un)
              become: false
        """);

    Run run = apply(rb.toString(), inv);

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    SshHost sudoHost = fleet.host(0);
    SshHost plainHost = fleet.host(1);
    assertThat(sudoHost.readFile("/tmp/who-inventory-root").strip()).isEqualTo("root");
    assertThat(plainHost.readFile("/tmp/who-inventory-runbook").strip()).isEqualTo("runbook");
    assertThat(plainHost.readFile("/tmp/who-step").strip()).isEqualTo("root");
    assertThat(sudoHost.readFile("/tmp/who-never-runbook").strip()).isEqualTo("runbook");
  }

  /** Files of releases/ and config/ with checksums, the database checksum and the 'current' link. */
  static String snapshot(SshHost h, String app) {
    return h.exec("sh", "-c", "cd " + app + " && find releases config | sort && find releases config -type f -exec sha256sum {} + | sort"
        + " && sha256sum data/sample.db && readlink current && stat -c '%a %U' config/config.json data/sample.db");
  }

  void stopService(String app) {
    for (SshHost h : fleet.hosts()) stopService(app, h);
  }

  static void stopService(String app, SshHost h) {
    h.exec("sh", "-c", "[ ! -x " + app + "/current/sampledctl ] || " + app + "/current/sampledctl stop " + app);
  }

  List<JsonNode> journal(String runbook) throws IOException {
    try (Stream<Path> runs = Files.list(tmp.resolve("state/runs"))) {
      for (Path dir : runs.toList()) {
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("journal.jsonl"))) events.add(JSON.readTree(line));
        if (events.get(0).path("runbook").asText().endsWith(runbook)) return events;
      }
    }
    throw new AssertionError("no journal of " + runbook);
  }

}
