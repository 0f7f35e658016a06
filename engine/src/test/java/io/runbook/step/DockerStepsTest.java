package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.RunbookException;
import io.runbook.docker.DockerEngine.Mount;
import io.runbook.docker.DockerEngine.RunResult;
import io.runbook.docker.ImageInUseException;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Docker step types against a recording Docker daemon; DockerStepsIT runs them against a real
 * one.
 */
class DockerStepsTest {
  final RecordingDocker docker = new RecordingDocker();
  @TempDir Path dir;

  final RecordingTransport host =
      new RecordingTransport().otherwise(r -> RecordingTransport.ok("1000:1000\n"));

  FakeContext ctx() {
    FakeContext c = new FakeContext(host, dir).with("run", Map.of("id", "20261122-001500-abcd"));
    c.docker = docker;
    return c;
  }

  // ---- docker_image

  @Test
  void pullOverAnExistingNameIsUndoneByPointingTheNameBack() throws Exception {
    DockerImageStep step = new DockerImageStep();
    docker.image("reg/sampled:2", "sha256:old");
    docker.pullYields = "sha256:new";
    var args =
        Bind.args(step, "{action: pull, image: reg/sampled:2, auth: {username: u, password: p}}");
    StepResult r = step.execute(args, ctx());

    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(docker.calls).containsExactly("pull reg/sampled:2 as u");
    assertThat(r.data())
        .containsEntry("image_id", "sha256:new")
        .containsEntry("previous_image_id", "sha256:old");
    assertThat(r.registered().toString()).doesNotContain("p}").doesNotContain("password");

    Step.Undo undo = step.undo(args, r).orElseThrow();
    assertThat(undo.description()).isEqualTo("point reg/sampled:2 back at old");
    assertThat(undo.run(ctx()).status()).isEqualTo(Status.CHANGED);
    assertThat(docker.images).containsEntry("reg/sampled:2", "sha256:old");
  }

  @Test
  void pullOfANewNameIsUndoneByRemovingIt() throws Exception {
    DockerImageStep step = new DockerImageStep();
    docker.pullYields = "sha256:new";
    var args = Bind.args(step, "{action: pull, image: reg/sampled:2}");
    StepResult r = step.execute(args, ctx());
    step.undo(args, r).orElseThrow().run(ctx());
    assertThat(docker.calls).containsExactly("pull reg/sampled:2", "rmi reg/sampled:2");
    assertThat(docker.images).doesNotContainKey("reg/sampled:2");
  }

  @Test
  void pullOfTheSameImageIsOkAndLeavesNothingToUndo() throws Exception {
    DockerImageStep step = new DockerImageStep();
    docker.image("reg/sampled:2", "sha256:same");
    docker.pullYields = "sha256:same";
    var args = Bind.args(step, "{action: pull, image: reg/sampled:2}");
    StepResult r = step.execute(args, ctx());
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(step.undo(args, r)).isEmpty();
  }

  @Test
  void tagMovesANameAndItsUndoMovesItBack() throws Exception {
    DockerImageStep step = new DockerImageStep();
    docker.image("reg/sampled:1", "sha256:one").image("sampled:rollback", "sha256:older");
    var args = Bind.args(step, "{action: tag, image: reg/sampled:1, target: 'sampled:rollback'}");
    StepResult r = step.execute(args, ctx());
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(docker.images).containsEntry("sampled:rollback", "sha256:one");
    step.undo(args, r).orElseThrow().run(ctx());
    assertThat(docker.images).containsEntry("sampled:rollback", "sha256:older");
  }

  @Test
  void tagOfAMissingImageFailsNamingIt() throws Exception {
    DockerImageStep step = new DockerImageStep();
    StepResult r =
        step.execute(Bind.args(step, "{action: tag, image: 'nope:1', target: 'x:2'}"), ctx());
    assertThat(r.failed()).isTrue();
    assertThat(r.message())
        .isEqualTo("test: cannot tag nope:1: the host has no such image (pull it first)");
  }

  @Test
  void imageArgumentsAreCheckedPerAction() {
    DockerImageStep step = new DockerImageStep();
    assertThat(step.validate(Bind.args(step, "{action: tag, image: a}")))
        .containsExactly("'tag' needs 'image' (the source) and 'target' (the new name)");
    assertThat(step.validate(Bind.args(step, "{action: pul, image: a}")))
        .containsExactly("action 'pul' is not one of pull, tag, remove, prune");
    assertThat(
            step.validate(
                Bind.args(step, "{action: remove, image: a, auth: {username: u, password: p}}")))
        .containsExactly("'auth' goes with action pull");
  }

  // ---- docker_container

  @Test
  void recreateKeepsThePreviousContainerAndItsUndoBringsItBack() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker
        .image("reg/sampled:1", "sha256:one")
        .image("reg/sampled:2", "sha256:two")
        .container("app", "reg/sampled:1", true);
    var args = Bind.args(step, "{action: recreate, name: app, image: 'reg/sampled:2'}");
    StepResult r = step.execute(args, ctx());

    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.data())
        .containsEntry("image_id", "sha256:two")
        .containsEntry("previous_image_id", "sha256:one")
        .containsEntry("previous_container", "app.runbook-prev");
    docker.calls.clear();

    Step.Undo undo = step.undo(args, r).orElseThrow();
    assertThat(undo.description())
        .isEqualTo(
            "bring back app from reg/sampled:1 (remove the new container, rename app.runbook-prev back)");
    assertThat(undo.run(ctx()).status()).isEqualTo(Status.CHANGED);
    assertThat(docker.calls).containsExactly("rm app", "rename app.runbook-prev app", "start app");
    assertThat(docker.containers.get("app").imageId()).isEqualTo("sha256:one");
    assertThat(docker.containers.get("app").running()).isTrue();
  }

  @Test
  void recreateUndoRefusesWhenTheKeptContainerIsGone() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker
        .image("reg/sampled:1", "sha256:one")
        .image("reg/sampled:2", "sha256:two")
        .container("app", "reg/sampled:1", true);
    var args = Bind.args(step, "{action: recreate, name: app, image: 'reg/sampled:2'}");
    StepResult r = step.execute(args, ctx());
    docker.containers.remove("app.runbook-prev");
    StepResult u = step.undo(args, r).orElseThrow().run(ctx());
    assertThat(u.failed()).isTrue();
    assertThat(u.message()).contains("the kept container app.runbook-prev is gone");
    assertThat(docker.containers)
        .containsKey("app"); // the new one is left running rather than nothing
  }

  @Test
  void recreateNeedsTheImageOnTheHost() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker.image("reg/sampled:1", "sha256:one").container("app", "reg/sampled:1", true);
    StepResult r =
        step.execute(
            Bind.args(step, "{action: recreate, name: app, image: 'reg/sampled:2'}"), ctx());
    assertThat(r.failed()).isTrue();
    assertThat(r.message())
        .isEqualTo(
            "test: cannot recreate app from reg/sampled:2: the host has no such image (pull it first with docker_image)");
    assertThat(docker.calls).isEmpty();
  }

  @Test
  void recreateWithTheImageItRunsIsOk() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker.image("reg/sampled:1", "sha256:one").container("app", "reg/sampled:1", true);
    var args = Bind.args(step, "{action: recreate, name: app, image: 'reg/sampled:1'}");
    StepResult r = step.execute(args, ctx());
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(step.undo(args, r)).isEmpty();
  }

  @Test
  void stopIsUndoneByStartAndCleanupRemovesTheKeptContainer() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker.container("app", "img", true).container("app.runbook-prev", "img", false);
    var stop = Bind.args(step, "{action: stop, name: app}");
    StepResult r = step.execute(stop, ctx());
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    step.undo(stop, r).orElseThrow().run(ctx());
    assertThat(docker.containers.get("app").running()).isTrue();
    assertThat(step.execute(Bind.args(step, "{action: cleanup, name: app}"), ctx()).status())
        .isEqualTo(Status.CHANGED);
    assertThat(docker.containers).doesNotContainKey("app.runbook-prev");
    assertThat(step.execute(Bind.args(step, "{action: stop, name: gone}"), ctx()).message())
        .isEqualTo("test: no container gone (docker ps -a on the host lists them)");
  }

  @Test
  void runStartsAOneOffContainerWithItsMountsAndFailsOnANonZeroExit() throws Exception {
    DockerContainerStep step = new DockerContainerStep();
    docker.runAnswer = new RunResult(0, "[INFO] Migrations complete (1 applied, 2 skipped)\n");
    var args =
        Bind.args(
            step,
            "{action: run, image: 'reg/sampled:2', command: [python3, /app/sampled.py, migrate], "
                + "volumes: ['app_data:/data', '/srv/conf:/config:ro']}");
    StepResult r = step.execute(args, ctx());
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.stdout()).contains("Migrations complete");
    assertThat(docker.runMounts.get(0))
        .containsExactly(
            Mount.volume("app_data", "/data", false), Mount.hostDir("/srv/conf", "/config", true));
    assertThat(step.undo(args, r)).isEmpty();
    assertThat(step.undoable(args)).isFalse();
    assertThat(
            step.undoable(
                Bind.args(step, "{action: recreate, name: sampled, image: 'reg/sampled:2'}")))
        .isTrue();

    docker.runAnswer =
        new RunResult(
            1,
            "[ERROR] Migration failed: 003_threads.sql\n[ERROR] Reason: duplicate column name: thread_id\n");
    StepResult failed = step.execute(args, ctx());
    assertThat(failed.failed()).isTrue();
    assertThat(failed.rc()).isEqualTo(1);
    assertThat(failed.message())
        .isEqualTo(
            "test: python3 /app/sampled.py migrate in reg/sampled:2 exited 1: [ERROR] Reason: duplicate column name: thread_id");
    assertThat(
            step.validate(
                Bind.args(step, "{action: run, image: x, command: [a], volumes: ['data']}")))
        .containsExactly("volume 'data' is not VOLUME_OR_ABS_PATH:/target[:ro]");
  }

  @Test
  void aPullUndoKeepsANameAContainerStillUses() throws Exception {
    DockerImageStep step = new DockerImageStep();
    docker.pullYields = "sha256:new";
    var args = Bind.args(step, "{action: pull, image: reg/sampled:2}");
    StepResult r = step.execute(args, ctx());
    RecordingDocker inUse =
        new RecordingDocker() {
          @Override
          public boolean removeImage(String image, boolean force) {
            throw new ImageInUseException(
                "test: cannot remove image " + image + ": a container uses it");
          }
        };
    FakeContext c = ctx();
    c.docker = inUse;
    StepResult u = step.undo(args, r).orElseThrow().run(c);
    assertThat(u.status()).isEqualTo(Status.OK);
    assertThat(u.message())
        .isEqualTo(
            "kept the image name reg/sampled:2: a container uses it; a cleanup's prune removes it once unused");
  }

  // ---- docker_volume

  @Test
  void backupRunsAThrowawayContainerWithTheVolumeReadOnlyAndIsUndoneByARestore() throws Exception {
    DockerVolumeStep step = new DockerVolumeStep();
    docker.volumes.add("app_data");
    String sha = "b".repeat(64);
    docker.runAnswer = new RunResult(0, "backup " + sha + " 4096 2\n");
    var args =
        Bind.args(
            step, "{action: backup, volume: app_data, dest: /srv/backups, image: 'reg/sampled:1'}");
    StepResult r = step.execute(args, ctx());

    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.data())
        .containsEntry("archive", "/srv/backups/20261122-001500-abcd/app_data.tar.gz")
        .containsEntry("sha256", sha)
        .containsEntry("files", 2)
        .containsEntry("bytes", 4096L);
    assertThat(docker.calls).containsExactly("run reg/sampled:1");
    assertThat(docker.runMounts.get(0))
        .containsExactly(
            Mount.volume("app_data", "/volume", true),
            Mount.hostDir("/srv/backups/20261122-001500-abcd", "/backup", false));
    assertThat(docker.runCommands.get(0).get(2))
        .contains("tar -czf \".$n.tmp\" --numeric-owner -C /volume .")
        .contains("chown 1000:1000 \"$n.tar.gz\" SHA256SUMS");
    assertThat(host.commands())
        .containsExactly(
            "umask 077 && mkdir -p /srv/backups/20261122-001500-abcd && stat -c %u:%g /srv/backups/20261122-001500-abcd");

    docker.runAnswer = new RunResult(0, "restored 2\n");
    Step.Undo undo = step.undo(args, r).orElseThrow();
    assertThat(undo.description())
        .isEqualTo(
            "restore volume app_data from /srv/backups/20261122-001500-abcd/app_data.tar.gz");
    StepResult u = undo.run(ctx());
    assertThat(u.status()).isEqualTo(Status.CHANGED);
    assertThat(docker.runMounts.get(1))
        .containsExactly(
            Mount.volume("app_data", "/volume", false),
            Mount.hostDir("/srv/backups/20261122-001500-abcd", "/backup", true));
    String restore = docker.runCommands.get(1).get(2);
    // checksum and a whole read before anything in the volume is removed
    assertThat(restore.indexOf("sha256sum -c")).isLessThan(restore.indexOf("rm -rf"));
    assertThat(restore.indexOf("tar -tzf")).isLessThan(restore.indexOf("rm -rf"));
  }

  @Test
  void aRefusedRestoreSaysWhy() throws Exception {
    DockerVolumeStep step = new DockerVolumeStep();
    docker.volumes.add("app_data");
    docker.runAnswer =
        new RunResult(
            3,
            "refusing to restore volume app_data: app_data.tar.gz does not match its checksum in SHA256SUMS; nothing was changed\n");
    StepResult r =
        step.execute(
            Bind.args(step, "{action: restore, volume: app_data, dir: /srv/backups/r1}"), ctx());
    assertThat(r.failed()).isTrue();
    assertThat(r.message())
        .isEqualTo(
            "test: cannot restore volume app_data from /srv/backups/r1/app_data.tar.gz: exit code 3: "
                + "refusing to restore volume app_data: app_data.tar.gz does not match its checksum in SHA256SUMS; nothing was changed");
  }

  @Test
  void aMissingVolumeFailsBeforeAnyContainerRuns() throws Exception {
    DockerVolumeStep step = new DockerVolumeStep();
    StepResult r =
        step.execute(Bind.args(step, "{action: backup, volume: nope, dest: /srv/b}"), ctx());
    assertThat(r.message())
        .isEqualTo("test: no volume nope (docker volume ls on the host lists them)");
    assertThat(docker.calls).isEmpty();
    assertThat(
            step.validate(
                Bind.args(step, "{action: restore, volume: v, dir: /a, archive: /a/v.tar.gz}")))
        .containsExactly(
            "'restore' needs exactly one of 'dir' (the backup's run directory) or 'archive'");
  }

  @Test
  void withoutADockerDaemonAStepFailsWithAMessage() {
    FakeContext c = new FakeContext(new RecordingTransport(), dir);
    DockerImageStep step = new DockerImageStep();
    Assertions.assertThatThrownBy(() -> step.execute(Bind.args(step, "{action: prune}"), c))
        .isInstanceOf(RunbookException.class)
        .hasMessage("test: no Docker daemon in this context");
  }

  // ---- compose

  @Test
  void composePsRegistersTheServiceState() throws Exception {
    ComposeStep step = new ComposeStep();
    RecordingTransport t =
        new RecordingTransport()
            .answer(
                RecordingTransport.ok("cli docker-compose\ncontainer 0123abcd\nrunning sampled\n"));
    FakeContext c = new FakeContext(t, dir);
    StepResult r =
        step.execute(
            Bind.args(
                step,
                "{action: ps, project_dir: /srv/app, file: 'my compose.yaml', service: sampled}"),
            c);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.registered())
        .containsEntry("state", "running")
        .containsEntry("running", true)
        .containsEntry("containers", List.of("0123abcd"))
        .containsEntry("cli", "docker-compose");
    String script = t.last().command();
    assertThat(script)
        .startsWith("cd /srv/app || exit 3\n")
        .contains("c() { docker compose -f 'my compose.yaml' \"$@\"; }")
        .contains("c() { docker-compose -f 'my compose.yaml' \"$@\"; }")
        .endsWith("c ps --services --filter status=running | sed 's/^/running /'");
  }

  @Test
  void composeWithoutACliSaysWhatToInstall() throws Exception {
    ComposeStep step = new ComposeStep();
    RecordingTransport t =
        new RecordingTransport()
            .answer(
                RecordingTransport.result(
                    127,
                    "",
                    "runbook: no Docker Compose CLI on this host: install the docker compose plugin or the docker-compose package\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{action: up, project_dir: /srv/app, service: sampled}"),
            new FakeContext(t, dir));
    assertThat(r.failed()).isTrue();
    assertThat(r.message())
        .isEqualTo(
            "test: compose up in /srv/app: no Docker Compose CLI on this host: install the "
                + "docker compose plugin or the docker-compose package");
    assertThat(t.last().command()).endsWith("c up -d sampled");
  }
}
