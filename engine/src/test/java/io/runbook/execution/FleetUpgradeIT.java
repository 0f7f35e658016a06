package io.runbook.execution;

import static io.runbook.testing.SampleRuns.health;
import static io.runbook.testing.SampleRuns.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample upgrade over SSH on a fleet of real OpenSSH hosts (Debian containers built locally):
 * {@code runbook apply} as a user runs it, checked on the hosts' own files, databases and /_health.
 */
class FleetUpgradeIT {
  @RegisterExtension static final Fleet fleet = Fleet.of(3);

  @TempDir Path tmp;
  SampleRuns sample;

  @BeforeEach
  void sample() {
    sample = new SampleRuns(fleet, tmp);
  }

  @Test
  void upgradesEveryHostOverSsh() throws Exception {
    Path inv = sample.inventory("/home/runbook/sample-e2e", 8080, h -> "");
    Run install = sample.apply("install-sample.yaml", inv);
    assertThat(install.code()).as(install.all()).isZero();

    Run upgrade = sample.apply("upgrade-v2.yaml", inv, "--forks", "3");

    assertThat(upgrade.code()).as(upgrade.all()).isZero();
    for (SshHost h : fleet.hosts()) {
      assertThat(health(h, 8080)).as(h.name()).isEqualTo("2.0.0");
      assertThat(h.exec("readlink", "/home/runbook/sample-e2e/current").strip())
          .isEqualTo("releases/2.0.0");
      assertThat(
              h.exec(
                      "sqlite3",
                      "/home/runbook/sample-e2e/data/sample.db",
                      "SELECT count(*) FROM migrations")
                  .strip())
          .isEqualTo("3");
      assertThat(upgrade.out()).containsPattern(h.name() + "\\s+binary\\s+ok");
    }
    sample.stopService("/home/runbook/sample-e2e");
  }

  @Test
  void aFailedMigrationRollsOneHostBackWhileTheOthersUpgrade() throws Exception {
    String app = "/home/runbook/sample-fail";
    Path inv = sample.inventory(app, 8081, h -> "");
    assertThat(sample.apply("install-sample.yaml", inv).code()).isZero();
    SshHost broken = fleet.host(1);
    // The seed's partly applied migration: messages.thread_id exists, so 003_threads.sql fails
    // there.
    broken.exec(
        "runuser",
        "-u",
        "runbook",
        "--",
        "sqlite3",
        app + "/data/sample.db",
        "ALTER TABLE messages ADD COLUMN thread_id INTEGER");
    String before = snapshot(broken, app);

    // All at once, and going on past a failure, so the other hosts upgrade in the same run.
    Run upgrade = sample.apply("upgrade-v2.yaml", inv, "--forks", "3", "--serial", "100%");

    assertThat(upgrade.code()).as(upgrade.all()).isEqualTo(2);
    assertThat(snapshot(broken, app)).isEqualTo(before);
    assertThat(health(broken, 8081)).isEqualTo("1.2.3");
    for (SshHost h : fleet.hosts()) {
      if (h != broken) assertThat(health(h, 8081)).as(h.name()).isEqualTo("2.0.0");
    }
    assertThat(upgrade.out())
        .containsPattern(broken.name() + "\\s+binary\\s+rolled back")
        .contains("duplicate column name: thread_id");

    List<String> forward = new ArrayList<>();
    List<String> undone = new ArrayList<>();
    for (JsonNode e : sample.journal("upgrade-v2.yaml")) {
      if (!e.path("event").asText().equals("step_finished")
          || !e.path("host").asText().equals(broken.name())) continue;
      if (e.path("rollback").asBoolean()) undone.add(e.path("forStep").asText());
      else if (!e.path("result").path("status").asText().equals("FAILED"))
        forward.add(e.path("name").asText());
    }
    // Every handler undid a step that had completed, and they ran in exactly the reverse order.
    List<String> undoneSteps = undone.stream().filter(s -> !s.isEmpty()).distinct().toList();
    List<String> expected =
        new ArrayList<>(forward.stream().filter(undoneSteps::contains).toList());
    Collections.reverse(expected);
    assertThat(undoneSteps)
        .containsExactlyElementsOf(expected)
        .contains(
            "Fetch sampled.py 2.0.0", "Create the release directory",
            "Back up the database and the config", "Stop the service");
    assertThat(undone.get(undone.size() - 1)).as("the rollback phase runs last").isEmpty();
    sample.stopService(app);
  }

  @Test
  void anUnknownHostKeyIsRefusedWithWhatToDo() throws Exception {
    Path inv = sample.inventory("/home/runbook/sample-keys", 8082, h -> "");
    Path emptyKnownHosts = Files.createFile(tmp.resolve("known_hosts"));

    Run run = sample.apply("install-sample.yaml", inv, "--known-hosts", emptyKnownHosts.toString());

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.out())
        .contains("UNREACHABLE")
        .contains("ssh-keyscan")
        .containsPattern("h1\\s+binary\\s+unreachable");
    assertThat(
            fleet
                .host(0)
                .exec("sh", "-c", "test -e /home/runbook/sample-keys && echo yes || echo no")
                .strip())
        .isEqualTo("no");
  }

  @Test
  void becomeRunsStepsThroughSudo() throws Exception {
    Path inv =
        sample.inventory(
            "/home/runbook/sample-become",
            8083,
            h -> h == fleet.host(0) ? "          ansible_become: true\n" : "");
    Path rb =
        Files.writeString(
            tmp.resolve("become.yaml"),
            """
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

    Run run = sample.apply(rb.toString(), inv);

    assertThat(run.code()).as(run.all()).isZero();
    SshHost sudoHost = fleet.host(0);
    SshHost plainHost = fleet.host(1);
    assertThat(sudoHost.readFile("/tmp/who-inventory-root").strip()).isEqualTo("root");
    assertThat(plainHost.readFile("/tmp/who-inventory-runbook").strip()).isEqualTo("runbook");
    assertThat(plainHost.readFile("/tmp/who-step").strip()).isEqualTo("root");
    assertThat(sudoHost.readFile("/tmp/who-never-runbook").strip()).isEqualTo("runbook");
  }

  @Test
  void anAutomaticUndoRunsWithTheStepsOwnSudo() throws Exception {
    SshHost h = fleet.host(2);
    h.exec(
        "sh", "-c", "printf 'old\\n' > /etc/runbook-undo.conf && chmod 600 /etc/runbook-undo.conf");
    Path inv = sample.inventory("/home/runbook/sample-undo", 8084, x -> "");
    Path rb =
        Files.writeString(
            tmp.resolve("undo.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: root-owned config
        hosts: h3
        phases:
          deploy:
            - name: Write the config as root
              copy: {content: "new\\n", dest: /etc/runbook-undo.conf, mode: "0600"}
              become: true
          verify:
            - name: Fails
              shell: exit 1
        """);

    Run run = sample.apply(rb.toString(), inv);

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertThat(h.readFile("/etc/runbook-undo.conf")).isEqualTo("old\n");
  }
}
