package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upgrade-v2.yaml planned for a kubernetes host and a binary host: modes, kubectl steps, their
 * rollbacks.
 */
class KubernetesPlanTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path tmp;

  @Test
  void theKubernetesModeIsPlannedWithSetImagesUndoOnly() throws Exception {
    Path inv =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          children:
            sample:
              hosts:
                kube-admin:
                  ansible_host: 192.0.2.10
                  mode: kubernetes
                  namespace: prod
                  deployment: sample
                  container: sample
                  image_repo: registry.local/sample
                  app_dir: /var/lib/runbook
                  health_url: ""
        """);

    Run run =
        Cli.run("plan", REPO.resolve("runbooks/upgrade-v2.yaml").toString(), "-i", inv.toString());

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    String[] lines = run.out().split("\n", -1);
    String plan = run.out();
    assertThat(plan)
        .contains(
            "host kube-admin (192.0.2.10:22) · mode kubernetes",
            "The Deployment exists and kubectl can reach the cluster  [kubectl]  action=get, deployment=sample, namespace=prod",
            "Roll out registry.local/sample:2.0.0  [kubectl]  action=set_image, deployment=sample, container=sample,"
                + " image=registry.local/sample:2.0.0, namespace=prod",
            "The rollout finishes  [kubectl]  action=rollout_status, deployment=sample, namespace=prod, timeout=3m");
    for (int i = 0; i < lines.length - 1; i++) {
      if (lines[i].contains("[kubectl]") && !lines[i].contains("gate")) {
        boolean undo = lines[i + 1].contains("↺ rollback: automatic (the kubectl step's own undo)");
        assertThat(undo).as(lines[i]).isEqualTo(lines[i].contains("action=set_image"));
      }
    }
    assertThat(plan).doesNotContain("migrate").doesNotContain("sampledctl");
  }
}
