package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RehearsalSpecTest {
  @TempDir Path tmp;

  static final String RB =
      """
      apiVersion: runbook/v1
      kind: Runbook
      name: spec
      hosts: app
      modes:
        binary:
          backup:
            - name: Back up
              backup: {paths: ["[=app_dir]/db", "[=app_dir]/conf"], dest: "[=app_dir]/backups", name: app}
          verify:
            - name: Health
              http: {url: "http://127.0.0.1:[=port]/_health"}
        other:
          deploy:
            - name: Nothing
              shell: "true"
      """;

  Plan plan(String rehearsal, String inventory) throws Exception {
    return TestPlans.plan(tmp, RB + rehearsal, inventory, Instant.now());
  }

  static String inv(String mode, String vars) {
    return "all:\n  children:\n    app:\n      hosts:\n        h1: {ansible_connection: local, mode: "
        + mode
        + ", "
        + vars
        + "}\n";
  }

  @Test
  void defaultsComeFromTheBackupAndVerifySteps() throws Exception {
    Plan p = plan("", inv("binary", "app_dir: /srv/app, port: 8080"));
    HostPlan h = p.hosts().get(0);
    RehearsalSpec.ForHost f = RehearsalSpec.of(p.runbook()).forHost(h);
    assertThat(f.seed()).containsExactly("/srv/app/db", "/srv/app/conf", "/srv/app/backups");
    assertThat(f.verify()).containsExactly("/srv/app/db", "/srv/app/conf");
    assertThat(f.restore()).isEqualTo("latest");
    assertThat(f.health()).isEqualTo("http://127.0.0.1:8080/_health");
    assertThat(f.backups())
        .containsExactly(
            new RehearsalSpec.Backup(
                "/srv/app/backups", "app", List.of("/srv/app/db", "/srv/app/conf")));
    assertThat(f.start()).isNull();
  }

  @Test
  void declaredKeysAreRenderedAndAModeMayReplaceThem() throws Exception {
    String r =
        """
        rehearsal:
          seed: ["[=app_dir]"]
          start: start "[=app_dir]"
          redact: [port]
          modes:
            other:
              seed: [/etc/other]
              start: other-start
        """;
    Plan p = plan(r, inv("binary", "app_dir: /srv/app, port: 8080"));
    RehearsalSpec spec = RehearsalSpec.of(p.runbook());
    RehearsalSpec.ForHost f = spec.forHost(p.hosts().get(0));
    assertThat(f.seed()).containsExactly("/srv/app");
    assertThat(f.start()).isEqualTo("start \"/srv/app\"");
    assertThat(
            Secrets.redact(
                    Map.of("port", 8080, "db_password", "hunter2", "ansible_user", "x"),
                    spec.redact())
                .names())
        .containsExactly("db_password", "port");

    Plan other = plan(r, inv("other", "x: 1"));
    RehearsalSpec.ForHost o = spec.forHost(other.hosts().get(0));
    assertThat(o.seed()).containsExactly("/etc/other");
    assertThat(o.start()).isEqualTo("other-start");
  }

  @Test
  void redactNamesVariablesOrKeysOfAFileRenderedWithProductionsVariables() throws Exception {
    String r =
        """
        rehearsal:
          redact:
            - db_dsn
            - {file: "[=app_dir]/conf/config.json", keys: [auth.jwt_key, servers.0.password]}
        """;
    Plan p = plan(r, inv("binary", "app_dir: /srv/app, port: 8080"));
    RehearsalSpec spec = RehearsalSpec.of(p.runbook());
    assertThat(spec.redact()).containsExactly("db_dsn");
    assertThat(spec.forHost(p.hosts().get(0)).redactKeys())
        .containsExactly(
            new RehearsalSpec.RedactKey(
                "/srv/app/conf/config.json", List.of("auth.jwt_key", "servers.0.password")));
    assertThatThrownBy(
            () ->
                plan(
                    "rehearsal:\n  redact: [{file: x.json}]\n",
                    inv("binary", "app_dir: /a, port: 1")))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining(".yaml:18:12: missing required key 'keys'");
  }

  @Test
  void aVariableTheModeLacksIsAnInputErrorNamingTheModeAndHost() throws Exception {
    Plan p = plan("rehearsal:\n  seed: [\"[=app_dir]\"]\n", inv("other", "x: 1"));
    assertThatThrownBy(() -> RehearsalSpec.of(p.runbook()).forHost(p.hosts().get(0)))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("rehearsal for host 'h1' (mode other)")
        .hasMessageContaining("app_dir")
        .hasMessageContaining("rehearsal.modes.other");
  }

  static final String COMPOSE_RB =
      """
      apiVersion: runbook/v1
      kind: Runbook
      name: spec
      hosts: app
      vars:
        project: "[=compose_project!'app']"
      modes:
        compose:
          preflight:
            - name: Version
              version: {url: "http://127.0.0.1:[=port]/v", target: 2.0.0}
              register: v
          backup:
            - name: Volume
              docker_volume: {action: backup, volume: "[=project]_data", dest: "[=app_dir]/backups", image: "app:[=v.installed]"}
            - name: Config
              backup: {paths: ["[=app_dir]/config.json"], dest: "[=app_dir]/backups", name: config}
      rehearsal:
        modes:
          compose:
            docker: true
            image: rehearsal-compose
            shared_dir: "[=app_dir]"
            vars:
              app_dir: "[=rehearsal.dir]/app"
              compose_project: "[=rehearsal.name]"
              port: "[=rehearsal.port]"
              token: "[=token]"
            verify_volumes: ["[=project]_data"]
      """;

  /**
   * What only the run will know keeps a backup or a probe out of the defaults: a backup whose name
   * needs it, and a probe whose step needs it anywhere; a backup whose other arguments need it is
   * still known.
   */
  @Test
  void backupsAndProbesThatNeedTheRunsValuesAreNotGuessed() throws Exception {
    String rb =
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: spec
        hosts: app
        phases:
          preflight:
            - name: Version
              version: {url: "http://127.0.0.1:8080/v", target: 2.0.0}
              register: v
          backup:
            - name: Named by the run
              backup: {paths: [/srv/a], dest: /srv/backups, name: "a-[=v.installed]"}
            - name: Kept by the run
              backup: {paths: [/srv/b], dest: /srv/backups, name: b, keep: "[=v.installed]"}
            - name: Imaged by the run
              docker_volume: {action: backup, volume: data, dest: /srv/backups, image: "app:[=v.installed]"}
            - name: A restore is no backup
              docker_volume: {action: restore, volume: data, dir: /srv/backups/x}
          verify:
            - name: Header from the run
              http: {url: "http://127.0.0.1:8080/_health", headers: {X-Version: "[=v.installed]"}}
            - name: Known whole
              http: {url: "http://127.0.0.1:8080/_ready"}
        """;
    Plan p = TestPlans.plan(tmp, rb, inv("binary", "app_dir: /srv/app"), Instant.now());
    RehearsalSpec.ForHost f = RehearsalSpec.of(p.runbook()).forHost(p.hosts().get(0));
    assertThat(f.backups())
        .containsExactly(new RehearsalSpec.Backup("/srv/backups", "data", List.of(), "data"));
    assertThat(f.health()).isEqualTo("http://127.0.0.1:8080/_ready");
  }

  @Test
  void aDockerModeMapsInventoryVariablesAndKnowsItsVolumeBackups() throws Exception {
    Plan p =
        TestPlans.plan(
            tmp,
            COMPOSE_RB,
            inv("compose", "app_dir: /srv/app, port: 8080, token: s3cret"),
            Instant.now());
    HostPlan h = p.hosts().get(0);
    RehearsalSpec spec = RehearsalSpec.of(p.runbook());
    assertThat(spec.forMode("compose").usesDocker()).isTrue();
    assertThat(spec.forMode("compose").image()).isEqualTo("rehearsal-compose");
    assertThat(spec.sharedDir(h)).isEqualTo("/srv/app");
    Map<String, Object> own =
        spec.vars(
            h,
            p.runbook(),
            new RehearsalSpec.Offer("rb-1-h1", 34567, "/var/lib/docker/volumes/v/_data"));
    assertThat(own)
        .containsExactly(
            Map.entry("app_dir", "/var/lib/docker/volumes/v/_data/app"),
            Map.entry("compose_project", "rb-1-h1"),
            Map.entry("port", 34567L),
            Map.entry("token", "s3cret"));

    RehearsalSpec.ForHost f = spec.forHost(h);
    // The volume backup's image needs a value of the run; its names do not.
    assertThat(f.backups())
        .containsExactly(
            new RehearsalSpec.Backup("/srv/app/backups", "app_data", List.of(), "app_data"),
            new RehearsalSpec.Backup(
                "/srv/app/backups", "config", List.of("/srv/app/config.json")));
    assertThat(f.verifyVolumes()).containsExactly("app_data");
    assertThat(f.seed()).containsExactly("/srv/app/backups", "/srv/app/config.json");
  }

  @Test
  void aRunbookVariableCannotBeMappedSinceItWinsOverTheInventory() throws Exception {
    Plan p =
        TestPlans.plan(
            tmp,
            COMPOSE_RB.replace(
                "compose_project: \"[=rehearsal.name]\"", "project: \"[=rehearsal.name]\""),
            inv("compose", "app_dir: /srv/app, port: 8080, token: s3cret"),
            Instant.now());
    assertThatThrownBy(
            () ->
                RehearsalSpec.of(p.runbook())
                    .vars(p.hosts().get(0), p.runbook(), new RehearsalSpec.Offer("n", 1, null)))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("rehearsal.modes.compose for host 'h1'")
        .hasMessageContaining("'project' is a variable of the runbook")
        .hasMessageContaining("map the inventory variable it is made from");
  }
}
