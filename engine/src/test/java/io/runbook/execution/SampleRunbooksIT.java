package io.runbook.execution;

import static io.runbook.testing.SampleRuns.health;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runbooks of {@code runbooks/} end to end over SSH on three real OpenSSH hosts, through {@code
 * runbook apply} as a user runs it: upgrade-v2's binary migrations (applied and recorded, a partly
 * applied one detected, the restore byte-identical), the patch rollout, the rollback drill, and
 * upgrade-v2's kubernetes mode against the kubectl stand-in (there is no Kubernetes cluster here).
 */
class SampleRunbooksIT {
  @RegisterExtension static final Fleet fleet = Fleet.of(3);

  @TempDir Path tmp;
  SampleRuns sample;

  @BeforeEach
  void sample() {
    sample = new SampleRuns(fleet, tmp);
    sample.clearLocks();
  }

  static String sqlite(SshHost h, String app, String sql) {
    return h.exec("runuser", "-u", "runbook", "--", "sqlite3", app + "/data/sample.db", sql)
        .strip();
  }

  /** The step_finished events of one host, as "phase name status" (rollback handlers marked ↺). */
  static List<String> steps(List<JsonNode> journal, String host) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : journal) {
      if (!e.path("event").asText().equals("step_finished")
          || !e.path("host").asText().equals(host)) continue;
      out.add(
          (e.path("rollback").asBoolean() ? "↺ " : "")
              + e.path("phase").asText()
              + " "
              + e.path("name").asText()
              + " "
              + e.path("result").path("status").asText());
    }
    return out;
  }

  static JsonNode step(List<JsonNode> journal, String host, String name) {
    for (JsonNode e : journal) {
      if (e.path("event").asText().equals("step_finished")
          && e.path("host").asText().equals(host)
          && e.path("name").asText().equals(name)) return e;
    }
    throw new AssertionError("no step '" + name + "' on " + host + " in the journal");
  }

  @Test
  void binaryMigrationsAreAppliedAndRecordedByTheMigrateStep() {
    String app = "/home/runbook/mig-ok";
    Path inv = sample.inventory(app, 8090, h -> "");
    SshHost h = fleet.host(0);
    Run install =
        sample.apply(
            "install-sample.yaml", inv, "--limit", h.name(), "-e", "install_version=1.3.0");
    assertThat(install.code()).as(install.all()).isZero();
    assertThat(sqlite(h, app, "SELECT group_concat(version, ',') FROM migrations"))
        .isEqualTo("001_init.sql,002_add_user_badges.sql");

    Run upgrade = sample.apply("upgrade-v2.yaml", inv, "--limit", h.name());

    assertThat(upgrade.code()).as(upgrade.all()).isZero();
    assertThat(
            sqlite(
                h,
                app,
                "SELECT version || ' ' || (applied_at != '') FROM migrations ORDER BY version"))
        .isEqualTo("001_init.sql 1\n002_add_user_badges.sql 1\n003_threads.sql 1");
    assertThat(
            sqlite(
                h,
                app,
                "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'thread_id'"))
        .isEqualTo("1");
    JsonNode migrate =
        step(sample.journal("upgrade-v2.yaml"), h.name(), "Apply the 2.0.0 database migrations");
    assertThat(migrate.path("type").asText()).isEqualTo("migrate");
    assertThat(migrate.path("result").path("message").asText())
        .isEqualTo("1 applied (003_threads.sql), 2 skipped");
    assertThat(health(h, 8090)).isEqualTo("2.0.0");
    sample.stopService(app);
  }

  @Test
  void aPartlyAppliedMigrationIsDetectedAndTheRestoreIsByteIdentical() {
    String app = "/home/runbook/mig-partly";
    Path inv = sample.inventory(app, 8091, h -> "");
    SshHost h = fleet.host(1);
    assertThat(sample.apply("install-sample.yaml", inv, "--limit", h.name()).code()).isZero();
    // The seed's "duplicate column name" case: thread_id is there, 003_threads.sql is not recorded.
    sqlite(h, app, "ALTER TABLE messages ADD COLUMN thread_id INTEGER");
    String dbBefore = h.sha256(app + "/data/sample.db");
    String configBefore = h.sha256(app + "/config/config.json");

    Run upgrade = sample.apply("upgrade-v2.yaml", inv, "--limit", h.name());

    assertThat(upgrade.code()).as("2: failed and rolled back\n" + upgrade.all()).isEqualTo(2);
    assertThat(upgrade.out())
        .containsPattern(h.name() + "\\s+binary\\s+rolled back")
        .contains(
            "003_threads.sql failed: duplicate column name: thread_id — the migration looks partly applied (its changes"
                + " exist but it is not recorded in migrations)",
            "mark_applied: [003_threads.sql]");
    assertThat(h.sha256(app + "/data/sample.db"))
        .as("database after the restore")
        .isEqualTo(dbBefore);
    assertThat(h.sha256(app + "/config/config.json")).isEqualTo(configBefore);
    assertThat(sqlite(h, app, "SELECT group_concat(version, ',') FROM migrations"))
        .as("nothing recorded")
        .isEqualTo("001_init.sql");
    assertThat(health(h, 8091)).isEqualTo("1.2.3");
    List<JsonNode> journal = sample.journal("upgrade-v2.yaml");
    JsonNode failed = step(journal, h.name(), "Apply the 2.0.0 database migrations");
    assertThat(failed.path("result").path("status").asText()).isEqualTo("FAILED");
    assertThat(failed.path("result").path("data").path("failed").asText())
        .isEqualTo("003_threads.sql");
    assertThat(steps(journal, h.name()))
        .contains(
            "↺ backup restore "
                + app
                + "/data/sample.db, "
                + app
                + "/config/config.json from "
                + app
                + "/backups/"
                + journal.get(0).path("runId").asText()
                + "/sample.tar.gz CHANGED");
    sample.stopService(app);
  }

  @Test
  void thePatchRolloutUpgradesTheFleetBatchByBatchWithoutAMajor() {
    String app = "/home/runbook/patch";
    Path inv = sample.inventory(app, 8092, h -> "");
    Run install = sample.apply("install-sample.yaml", inv, "--forks", "3");
    assertThat(install.code()).as(install.all()).isZero();
    String db0 = fleet.host(0).sha256(app + "/data/sample.db");

    Run major = sample.apply("patch-rollout.yaml", inv, "-e", "target_version=2.0.0");
    assertThat(major.code()).as(major.all()).isEqualTo(2);
    assertThat(major.out())
        .contains(
            "2.0.0 is a major release (breaking config and schema): use runbooks/upgrade-v2.yaml");
    assertThat(fleet.host(0).sha256(app + "/data/sample.db"))
        .as("refused in preflight: nothing changed")
        .isEqualTo(db0);

    Run patch = sample.apply("patch-rollout.yaml", inv, "--forks", "3");

    assertThat(patch.code()).as(patch.all()).isZero();
    for (SshHost h : fleet.hosts()) {
      assertThat(health(h, 8092)).as(h.name()).isEqualTo("1.3.0");
      assertThat(h.exec("readlink", app + "/current").strip()).isEqualTo("releases/1.3.0");
      assertThat(sqlite(h, app, "SELECT group_concat(version, ',') FROM migrations"))
          .isEqualTo("001_init.sql,002_add_user_badges.sql");
    }
    List<JsonNode> journal = sample.journal("patch-rollout.yaml");
    List<String> batches = new ArrayList<>();
    for (JsonNode e : journal) {
      if (e.path("event").asText().equals("batch_started")) batches.add(e.path("hosts").toString());
    }
    assertThat(batches).containsExactly("[\"h1\"]", "[\"h2\"]", "[\"h3\"]");
    assertThat(
            step(journal, "h1", "Apply the 1.3.0 database migrations")
                .path("result")
                .path("message")
                .asText())
        .isEqualTo("1 applied (002_add_user_badges.sql), 1 skipped");

    // Again: every host is on 1.3.0 already, so nothing changes and every host still answers.
    Run again = sample.apply("patch-rollout.yaml", inv, "--forks", "3");
    assertThat(again.code()).as(again.all()).isZero();
    assertThat(steps(sample.journal("patch-rollout.yaml"), "h2"))
        .contains("deploy Restart on 1.3.0 SKIPPED");
    sample.stopService(app);
  }

  @Test
  void theRollbackDrillUpgradesFailsOnPurposeAndComesBackByteForByte() {
    String app = "/home/runbook/drill";
    Path inv = sample.inventory(app, 8093, h -> "");
    SshHost h = fleet.host(2);
    assertThat(sample.apply("install-sample.yaml", inv, "--limit", h.name()).code()).isZero();
    String fingerprint =
        h.exec(
            "sh",
            "-c",
            "cd " + app + " && sha256sum data/sample.db config/config.json && readlink current");

    Run drill = sample.apply("rollback-drill.yaml", inv, "--limit", h.name());

    assertThat(drill.code()).as("a passed drill: rolled back\n" + drill.all()).isEqualTo(2);
    assertThat(drill.out())
        .containsPattern(h.name() + "\\s+binary\\s+rolled back")
        .contains(
            "rollback drill: 2.0.0 was up and healthy; failing on purpose to rehearse the rollback");
    assertThat(
            h.exec(
                "sh",
                "-c",
                "cd "
                    + app
                    + " && sha256sum data/sample.db config/config.json && readlink current"))
        .isEqualTo(fingerprint);
    assertThat(health(h, 8093)).isEqualTo("1.2.3");
    List<String> steps = steps(sample.journal("rollback-drill.yaml"), h.name());
    assertThat(steps)
        .contains(
            "verify /_health reports 2.0.0 OK",
            "migrate Apply the 2.0.0 database migrations CHANGED",
            "verify Drill: fail on purpose so that the rollback runs FAILED",
            "↺ rollback The previous release answers /_health again OK",
            "↺ rollback The data, the config and the release are as they were OK");
    assertThat(steps.get(steps.size() - 1))
        .isEqualTo("↺ rollback The data, the config and the release are as they were OK");

    // The demo's last runbook: the service stops, and stopping it again is fine.
    Run stop = sample.apply("stop-sample.yaml", inv, "--limit", h.name());
    assertThat(stop.code()).as(stop.all()).isZero();
    assertThat(health(h, 8093)).isEqualTo("down");
    assertThat(
            h.exec(
                    "sh",
                    "-c",
                    "test -e " + app + "/run/sampled.pid && echo running || echo stopped")
                .strip())
        .isEqualTo("stopped");
    assertThat(sample.apply("stop-sample.yaml", inv, "--limit", h.name()).code()).isZero();
  }

  @Test
  void aDrillWhoseRollbackLeavesADifferenceFailsWithExitCode3() {
    String app = "/home/runbook/drill-broken";
    Path inv = sample.inventory(app, 8096, h -> "");
    SshHost h = fleet.host(0);
    assertThat(sample.apply("install-sample.yaml", inv, "--limit", h.name()).code()).isZero();

    // A fingerprint that differs every time stands for a rollback that does not restore everything.
    Run drill =
        sample.apply(
            "rollback-drill.yaml", inv, "--limit", h.name(), "-e", "fingerprint=date +%s%N");

    assertThat(drill.code()).as("3: the rollback is broken\n" + drill.all()).isEqualTo(3);
    assertThat(drill.out()).containsPattern(h.name() + "\\s+binary\\s+rollback failed");
    assertThat(steps(sample.journal("rollback-drill.yaml"), h.name()))
        .contains("↺ rollback The data, the config and the release are as they were FAILED");
    sample.stopService(app);
  }

  @Test
  void aPatchRolloutThatFailsOnOneHostRestoresItsDatabaseAndStopsTheRollout() {
    String app = "/home/runbook/patch-fail";
    Path inv = sample.inventory(app, 8097, h -> "");
    assertThat(sample.apply("install-sample.yaml", inv, "--forks", "3").code()).isZero();
    SshHost broken = fleet.host(1);
    // 002_add_user_badges.sql's table exists already on h2 (created by hand, not recorded): its
    // migration fails.
    sqlite(
        broken,
        app,
        "CREATE TABLE user_badges (user_id INTEGER NOT NULL, badge TEXT NOT NULL, awarded_at TEXT,"
            + " PRIMARY KEY (user_id, badge)); INSERT INTO users (name) VALUES ('added by hand')");
    String dumpBefore = sqlite(broken, app, ".dump");

    Run patch = sample.apply("patch-rollout.yaml", inv, "--forks", "3");

    assertThat(patch.code()).as(patch.all()).isEqualTo(2);
    assertThat(patch.out())
        .containsPattern("h1\\s+binary\\s+ok")
        .containsPattern("h2\\s+binary\\s+rolled back")
        .containsPattern("h3\\s+binary\\s+not run")
        .contains("002_add_user_badges.sql failed: table user_badges already exists");
    assertThat(health(fleet.host(0), 8097)).isEqualTo("1.3.0");
    assertThat(health(broken, 8097)).isEqualTo("1.2.3");
    assertThat(health(fleet.host(2), 8097)).as("batch 3 never ran").isEqualTo("1.2.3");
    assertThat(sqlite(broken, app, ".dump"))
        .as("h2's database, from the online backup")
        .isEqualTo(dumpBefore);
    assertThat(broken.exec("readlink", app + "/current").strip()).isEqualTo("releases/1.2.3");
    assertThat(
            broken
                .exec("sh", "-c", "test -e " + app + "/releases/1.3.0 && echo left || echo gone")
                .strip())
        .isEqualTo("gone");
    assertThat(steps(sample.journal("patch-rollout.yaml"), broken.name()))
        .containsSubsequence(
            "migrate Apply the 1.3.0 database migrations FAILED",
            "↺ pull Remove the new release CHANGED",
            "↺ backup Put the database back as it was before the rollout CHANGED",
            "↺ rollback The previous release answers /_health again OK");
    sample.stopService(app);
  }

  /**
   * The stand-in kubectl (engine/src/test/resources/kubectl-standin) as /usr/local/bin/kubectl on
   * the host.
   */
  static void installKubectlStandIn(SshHost h, String image) throws IOException {
    String script;
    try (InputStream in = SampleRunbooksIT.class.getResourceAsStream("/kubectl-standin/kubectl")) {
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    h.exec(
        "sh",
        "-c",
        "printf '%s' \"$1\" > /usr/local/bin/kubectl && chmod 755 /usr/local/bin/kubectl"
            + " && rm -rf /var/lib/kubectl-standin && install -d -o runbook -g runbook /var/lib/kubectl-standin",
        "sh",
        script);
    h.exec(
        "runuser",
        "-u",
        "runbook",
        "--",
        "kubectl",
        "-n",
        "prod",
        "create",
        "deployment",
        "sample",
        "--image=" + image);
  }

  static String kubernetesHost(SshHost h) {
    return h != fleet.host(2)
        ? ""
        : """
                  mode: kubernetes
                  namespace: prod
                  deployment: sample
                  container: sample
                  image_repo: registry.local/sample
                  health_url: ""
        """;
  }

  @Test
  void kubernetesModeSetsTheImageAndWaitsForTheRolloutWithTheKubectlStandIn() throws Exception {
    SshHost h = fleet.host(2);
    installKubectlStandIn(h, "registry.local/sample:1.2.3");
    Path inv = sample.inventory("/home/runbook/kube", 8094, SampleRunbooksIT::kubernetesHost);

    Run run = sample.apply("upgrade-v2.yaml", inv, "--limit", h.name());

    assertThat(run.code()).as(run.all()).isZero();
    assertThat(run.out()).containsPattern(h.name() + "\\s+kubernetes\\s+ok");
    assertThat(
            kubectl(
                h,
                "get",
                "deployment/sample",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}"))
        .isEqualTo("registry.local/sample:2.0.0");
    assertThat(h.readFile("/var/lib/kubectl-standin/calls.log"))
        .contains(
            "[\"-n\", \"prod\", \"set\", \"image\", \"deployment/sample\", \"sample=registry.local/sample:2.0.0\"]",
            "[\"-n\", \"prod\", \"rollout\", \"status\", \"deployment/sample\", \"--timeout=180s\"]",
            "[\"-n\", \"prod\", \"rollout\", \"status\", \"deployment/sample\", \"--timeout=60s\"]");
    String runId = sample.journal("upgrade-v2.yaml").get(0).path("runId").asText();
    assertThat(h.readFile("/home/runbook/kube/backups/" + runId + "/deployment.json"))
        .contains("\"image\": \"registry.local/sample:1.2.3\"");
  }

  @Test
  void aRolloutThatNeverBecomesAvailableIsUndoneToTheRecordedRevision() throws Exception {
    SshHost h = fleet.host(2);
    installKubectlStandIn(h, "registry.local/sample:1.2.3");
    kubectl(
        h, "set", "image", "deployment/sample", "sample=registry.local/sample:1.3.0"); // revision 2
    // 2.0.0's pods never become available: the stand-in's rollout status fails like the progress
    // deadline.
    h.exec(
        "sh",
        "-c",
        "cd /var/lib/kubectl-standin && python3 -c \"import json; s = json.load(open('state.json'));"
            + " s['failing'] = ['registry.local/sample:2.0.0']; json.dump(s, open('state.json', 'w'))\"");
    Path inv = sample.inventory("/home/runbook/kube-fail", 8095, SampleRunbooksIT::kubernetesHost);

    Run run = sample.apply("upgrade-v2.yaml", inv, "--limit", h.name());

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    assertThat(run.out())
        .containsPattern(h.name() + "\\s+kubernetes\\s+rolled back")
        .contains(
            "rollout of deployment/sample did not complete (waited up to 3m): error: deployment \"sample\" exceeded its progress deadline");
    assertThat(h.readFile("/var/lib/kubectl-standin/calls.log"))
        .contains(
            "[\"-n\", \"prod\", \"rollout\", \"undo\", \"deployment/sample\", \"--to-revision=2\"]");
    assertThat(
            kubectl(
                h,
                "get",
                "deployment/sample",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}"))
        .isEqualTo("registry.local/sample:1.3.0");
    assertThat(kubectl(h, "rollout", "history", "deployment/sample"))
        .contains("1 ", "3 ", "4 ")
        .doesNotContain("\n2 ");
    List<String> steps = steps(sample.journal("upgrade-v2.yaml"), h.name());
    assertThat(steps)
        .containsSubsequence(
            "deploy Roll out registry.local/sample:2.0.0 CHANGED",
            "verify The rollout finishes FAILED",
            "↺ deploy rollout undo deployment/sample --to-revision=2 (back to registry.local/sample:1.3.0) CHANGED",
            "↺ rollback The Deployment runs the previous image again OK");
  }

  static String kubectl(SshHost h, String... args) {
    List<String> argv =
        new ArrayList<>(List.of("runuser", "-u", "runbook", "--", "kubectl", "-n", "prod"));
    argv.addAll(List.of(args));
    return h.exec(argv.toArray(String[]::new)).strip();
  }
}
