package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RehearsalSpecTest {
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp;

  static final String RB = """
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
    return "all:\n  children:\n    app:\n      hosts:\n        h1: {ansible_connection: local, mode: " + mode + ", " + vars + "}\n";
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
    assertThat(f.backups()).containsExactly(new RehearsalSpec.Backup("/srv/app/backups", "app", List.of("/srv/app/db", "/srv/app/conf")));
    assertThat(f.start()).isNull();
  }

  @Test
  void declaredKeysAreRenderedAndAModeMayReplaceThem() throws Exception {
    String r = """
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
    assertThat(Secrets.redact(Map.of("port", 8080, "db_password", "hunter2", "ansible_user", "x"), spec.redact()).names())
        .containsExactly("db_password", "port");

    Plan other = plan(r, inv("other", "x: 1"));
    RehearsalSpec.ForHost o = spec.forHost(other.hosts().get(0));
    assertThat(o.seed()).containsExactly("/etc/other");
    assertThat(o.start()).isEqualTo("other-start");
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
}
