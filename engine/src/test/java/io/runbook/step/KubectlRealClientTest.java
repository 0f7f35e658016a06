package io.runbook.step;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The step's command lines run by the real kubectl client on this machine, against a kubeconfig
 * whose API server does not listen (no cluster is available here): kubectl must accept every flag
 * the step writes and get as far as connecting, and the step's failure must carry kubectl's own
 * words. What the commands do to a Deployment is tested against the stand-in kubectl over SSH
 * (SampleRunbooksIT), not against Kubernetes.
 */
class KubectlRealClientTest {
  final KubectlStep step = new KubectlStep();
  @TempDir Path dir;
  Path kubeconfig;

  @BeforeEach
  void kubeconfig() throws Exception {
    Process which = new ProcessBuilder("sh", "-c", "command -v kubectl").start();
    assertThat(which.waitFor())
        .as(
            "kubectl is not installed on this machine: run scripts/test-env.sh (it installs"
                + " Debian's kubernetes-client), or apt-get install kubernetes-client")
        .isZero();
    kubeconfig =
        Files.writeString(
            dir.resolve("kube config"),
            """
        apiVersion: v1
        kind: Config
        clusters:
        - name: nowhere
          cluster: {server: "https://127.0.0.1:1"}
        contexts:
        - name: staging
          context: {cluster: nowhere, user: nobody}
        current-context: staging
        users:
        - name: nobody
          user: {token: not-a-secret}
        """);
  }

  StepResult run(String yaml) throws Exception {
    KubectlStep.Args a = Bind.args(step, yaml.replace("KUBECONFIG", "'" + kubeconfig + "'"));
    FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
    return step.execute(a, ctx);
  }

  @Test
  void theRealClientAcceptsEveryCommandLineAndTheStepReportsItsError() throws Exception {
    for (String yaml :
        List.of(
            "{action: get, deployment: sample, namespace: prod, context: staging, kubeconfig: KUBECONFIG}",
            "{action: set_image, deployment: sample, container: sample, image: 'reg.local/sample:2.0.0', namespace: prod, kubeconfig: KUBECONFIG}",
            "{action: rollout_status, deployment: sample, namespace: prod, timeout: 5s, context: staging, kubeconfig: KUBECONFIG}",
            "{action: rollout_undo, deployment: sample, to_revision: 3, namespace: prod, kubeconfig: KUBECONFIG}")) {
      StepResult r = run(yaml);
      assertThat(r.status()).as(yaml).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .as(yaml)
          .contains("The connection to the server 127.0.0.1:1 was refused")
          .doesNotContain("unknown flag", "unknown command", "invalid argument");
    }
  }

  @Test
  void aFlagTheClientDoesNotKnowWouldShowUp() throws Exception {
    // The check above can fail: the same client refuses a misspelt flag before connecting.
    Process p =
        new ProcessBuilder(
                "kubectl",
                "--kubeconfig",
                kubeconfig.toString(),
                "rollout",
                "status",
                "deployment/sample",
                "--timout=5s")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor()).isNotZero();
    assertThat(out).contains("unknown flag: --timout");
  }
}
