package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.execution.Plan;
import io.runbook.model.Rollout;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanHashTest {
  @TempDir Path tmp;

  static final String RUNBOOK =
      """
      apiVersion: runbook/v1
      kind: Runbook
      name: hash me
      hosts: app
      vars: {target: 2.0.0}
      rollout: {serial: [1, "100%"]}
      modes:
        binary:
          backup:
            - name: Stop [=target]
              shell: echo stop "[=app_dir]"
              rollback:
                - name: Start
                  shell: echo start
          verify:
            - name: Health
              shell: echo "[=inventory_hostname]"
      """;

  Plan plan(String runbook, String inventory, Instant now) throws Exception {
    return TestPlans.plan(tmp, runbook, inventory, now);
  }

  static String inventory(String... hosts) {
    StringBuilder sb =
        new StringBuilder(
            "all:\n  children:\n    app:\n      vars: {mode: binary}\n      hosts:\n");
    for (String h : hosts)
      sb.append("        ")
          .append(h)
          .append(": {ansible_connection: local, app_dir: /srv/")
          .append(h)
          .append("}\n");
    return sb.toString();
  }

  @Test
  void sameStepsSameHashWhateverTheHostsRunIdOrTime() throws Exception {
    String a =
        PlanHash.of(
            plan(RUNBOOK, inventory("web1"), Instant.parse("2026-11-01T00:00:00Z")), Map.of());
    String b =
        PlanHash.of(
            plan(RUNBOOK, inventory("web1"), Instant.parse("2026-11-20T10:00:00Z")), Map.of());
    String c = PlanHash.of(plan(RUNBOOK, inventory("h1", "h2", "h3"), Instant.now()), Map.of());
    assertThat(a).hasSize(64).isEqualTo(b).isEqualTo(c);
  }

  @Test
  void aChangedStepHandlerVarExtraVarOrRolloutChangesIt() throws Exception {
    Instant now = Instant.now();
    Plan base = plan(RUNBOOK, inventory("web1"), now);
    String h = PlanHash.of(base, Map.of());
    assertThat(
            PlanHash.of(
                plan(RUNBOOK.replace("echo stop", "echo halt"), inventory("web1"), now), Map.of()))
        .isNotEqualTo(h);
    assertThat(
            PlanHash.of(
                plan(
                    RUNBOOK.replace("shell: echo start", "shell: echo begin"),
                    inventory("web1"),
                    now),
                Map.of()))
        .as("a rollback handler")
        .isNotEqualTo(h);
    assertThat(
            PlanHash.of(
                plan(RUNBOOK.replace("name: Health", "name: Healthy"), inventory("web1"), now),
                Map.of()))
        .isNotEqualTo(h);
    assertThat(
            PlanHash.of(
                plan(RUNBOOK.replace("target: 2.0.0", "target: 2.0.1"), inventory("web1"), now),
                Map.of()))
        .isNotEqualTo(h);
    assertThat(PlanHash.of(base, Map.of("target", "3.0.0"))).isNotEqualTo(h);
    Plan serial =
        new Plan(
            base.runId(),
            now,
            base.runbook()
                .withRollout(
                    base.runbook()
                        .rollout()
                        .with(List.of("100%"), null, Rollout.Policy.HALT, null)),
            base.inventory(),
            base.hosts());
    assertThat(PlanHash.of(serial, Map.of())).isNotEqualTo(h);
    assertThat(PlanHash.shortForm(h)).isEqualTo(h.substring(0, 8));
  }
}
