package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact kubectl command lines, the undo built from the recorded revision, time-outs and
 * messages.
 */
class KubectlStepTest {
  final KubectlStep step = new KubectlStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  static String deployment(int revision, String image) {
    return """
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "sample", "namespace": "prod", "generation": 4,
                      "annotations": {"deployment.kubernetes.io/revision": "%d"}},
         "spec": {"template": {"spec": {"containers": [
           {"name": "sidecar", "image": "envoy:1.29"}, {"name": "sample", "image": "%s"}]}}}}
        """
        .formatted(revision, image);
  }

  FakeContext ctx() {
    return new FakeContext(host, dir);
  }

  StepResult run(String yaml) throws Exception {
    KubectlStep.Args a = Bind.args(step, yaml);
    assertThat(step.validate(a)).isEmpty();
    return step.execute(a, ctx());
  }

  @Test
  void setImageReadsTheRevisionThenSetsTheImage() throws Exception {
    host.answer(
        ok(deployment(3, "reg.local/sample:1.2.3")), ok("deployment.apps/sample image updated\n"));

    StepResult r =
        run(
            "{action: set_image, deployment: sample, container: sample, image: 'reg.local/sample:2.0.0',"
                + " namespace: prod, context: prod-eu, kubeconfig: /etc/kube config}");

    assertThat(host.commands())
        .containsExactly(
            "kubectl --kubeconfig '/etc/kube config' --context prod-eu -n prod get deployment/sample -o json",
            "kubectl --kubeconfig '/etc/kube config' --context prod-eu -n prod set image deployment/sample sample=reg.local/sample:2.0.0");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo("sample: reg.local/sample:1.2.3 → reg.local/sample:2.0.0 (was revision 3)");
    assertThat(r.registered())
        .containsEntry("previous_revision", "3")
        .containsEntry("previous_image", "reg.local/sample:1.2.3")
        .containsEntry("image", "reg.local/sample:2.0.0");
  }

  @Test
  void theUndoOfSetImageGoesBackToTheRecordedRevisionAndWaits() throws Exception {
    host.answer(ok(deployment(7, "sample:1.2.3")), ok("deployment.apps/sample image updated\n"));
    KubectlStep.Args a =
        Bind.args(
            step,
            "{action: set_image, deployment: sample, container: sample, image: 'sample:2.0.0', namespace: prod}");
    StepResult done = step.execute(a, ctx());
    host.requests.clear();
    host.answer(
        ok("deployment.apps/sample rolled back\n"),
        ok("deployment \"sample\" successfully rolled out\n"));

    Step.Undo undo = step.undo(a, done).orElseThrow();
    FakeContext c = ctx();
    c.timeout = Duration.ofSeconds(90);
    StepResult r = undo.run(c);

    assertThat(undo.description())
        .isEqualTo("rollout undo deployment/sample --to-revision=7 (back to sample:1.2.3)");
    assertThat(host.commands())
        .containsExactly(
            "kubectl -n prod rollout undo deployment/sample --to-revision=7",
            "kubectl -n prod rollout status deployment/sample --timeout=90s");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).isEqualTo("deployment/sample back at revision 7, sample:1.2.3");
  }

  @Test
  void anImageAlreadySetChangesNothingAndHasNothingToUndo() throws Exception {
    host.answer(ok(deployment(2, "sample:2.0.0")));
    KubectlStep.Args a =
        Bind.args(
            step,
            "{action: set_image, deployment: sample, container: sample, image: 'sample:2.0.0'}");
    StepResult r = step.execute(a, ctx());
    assertThat(host.commands()).containsExactly("kubectl get deployment/sample -o json");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("deployment/sample already runs sample:2.0.0");
    assertThat(step.undo(a, r)).isEmpty();
    assertThat(step.undoable(a)).as("plans show set_image's automatic undo").isTrue();
  }

  @Test
  void anUnknownContainerOrDeploymentIsAClearFailure() throws Exception {
    host.answer(ok(deployment(2, "sample:1.2.3")));
    StepResult noContainer =
        run("{action: set_image, deployment: sample, container: web, image: 'sample:2.0.0'}");
    assertThat(noContainer.message())
        .isEqualTo("deployment/sample has no container 'web' (it has: sidecar, sample)");
    assertThat(host.requests).hasSize(1);

    host.answer(
        result(1, "", "Error from server (NotFound): deployments.apps \"smaple\" not found\n"));
    StepResult noDeployment =
        run("{action: set_image, deployment: smaple, container: sample, image: 'sample:2.0.0'}");
    assertThat(noDeployment.status()).isEqualTo(Status.FAILED);
    assertThat(noDeployment.message())
        .isEqualTo(
            "get deployment/smaple failed: Error from server (NotFound): deployments.apps \"smaple\" not found");

    host.answer(result(127, "", "sh: 1: kubectl: not found\n"));
    assertThat(run("{action: rollout_undo, deployment: sample}").message())
        .isEqualTo(
            "rollout undo of deployment/sample failed: sh: 1: kubectl: not found (is kubectl installed on the host and on its PATH?)");
  }

  @Test
  void rolloutStatusPassesTheTimeOutAndFailsWithTheRolloutsMessage() throws Exception {
    host.answer(
        result(
            1,
            "Waiting for deployment \"sample\" rollout to finish: 0 of 1 updated replicas are available...\n",
            "error: deployment \"sample\" exceeded its progress deadline\n"));

    StepResult r =
        run("{action: rollout_status, deployment: sample, namespace: prod, timeout: 2m}");

    assertThat(host.last().command())
        .isEqualTo("kubectl -n prod rollout status deployment/sample --timeout=120s");
    assertThat(host.last().timeout()).isEqualTo(Duration.ofSeconds(150));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "rollout of deployment/sample did not complete (waited up to 2m): error: deployment \"sample\""
                + " exceeded its progress deadline (last: Waiting for deployment \"sample\" rollout to finish: 0 of 1 updated replicas"
                + " are available...)");
  }

  @Test
  void rolloutStatusWaitsForTheStepsTimeOutByDefault() throws Exception {
    host.answer(
        ok(
            """
            Waiting for deployment "sample" rollout to finish: 1 of 2 updated replicas are available...
            deployment "sample" successfully rolled out
            """));
    StepResult r = run("{action: rollout_status, deployment: sample}");
    assertThat(host.last().command())
        .isEqualTo("kubectl rollout status deployment/sample --timeout=30s");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("deployment \"sample\" successfully rolled out");
    assertThat(step.undo(Bind.args(step, "{action: rollout_status, deployment: sample}"), r))
        .isEmpty();
    assertThat(step.undoable(Bind.args(step, "{action: rollout_status, deployment: sample}")))
        .isFalse();
  }

  @Test
  void rolloutUndoGoesToTheGivenRevision() throws Exception {
    host.answer(ok("deployment.apps/sample rolled back\n"));
    StepResult r =
        run("{action: rollout_undo, deployment: sample, to_revision: 5, namespace: prod}");
    assertThat(host.last().command())
        .isEqualTo("kubectl -n prod rollout undo deployment/sample --to-revision=5");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    run("{action: rollout_undo, deployment: sample}");
    assertThat(host.last().command()).isEqualTo("kubectl rollout undo deployment/sample");
  }

  @Test
  void getRegistersTheObjectAsJson() throws Exception {
    host.answer(ok(deployment(4, "sample:1.3.0")));
    StepResult r = run("{action: get, deployment: sample, namespace: prod}");
    assertThat(host.last().command()).isEqualTo("kubectl -n prod get deployment/sample -o json");
    assertThat(r.status()).isEqualTo(Status.OK);
    ctx().vars.put("d", r.registered());
    FakeContext c = ctx().with("d", r.registered());
    assertThat(c.render("[=d.json.metadata.annotations['deployment.kubernetes.io/revision']]", "t"))
        .isEqualTo("4");

    host.answer(ok("<html>proxy error</html>"));
    assertThat(run("{action: get, resource: pods}").message())
        .isEqualTo("kubectl get pods did not print JSON: <html>proxy error</html>");
  }

  @Test
  void argumentsThatDoNotGoTogetherAreRefused() {
    assertThat(step.validate(Bind.args(step, "{action: scale, deployment: x}")))
        .containsExactly("'action' must be one of set_image, rollout_status, rollout_undo, get");
    assertThat(
            step.validate(
                Bind.args(
                    step,
                    "{action: set_image, deployment: x, image: y, timeout: 5m, to_revision: 0}")))
        .containsExactly(
            "set_image needs 'container' and 'image'",
            "'timeout' goes with rollout_status",
            "'to_revision' goes with rollout_undo",
            "'to_revision' must be a revision number such as 3");
    assertThat(step.validate(Bind.args(step, "{action: rollout_status}")))
        .isEqualTo(List.of("'deployment' is required for rollout_status"));
  }
}
