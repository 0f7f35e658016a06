package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller killed with SIGKILL in the middle of a looped step's second item: {@code resume}
 * undoes the item that finished and the one that was running (it counts as possibly done), each
 * once, and a later {@code rollback RUN_ID} has nothing left to undo. A real controller process on
 * a local host.
 */
class LoopResumeIT {
  @TempDir Path tmp;

  @Test
  void resumeAfterAKillInALoopUndoesEachStartedItemOnce() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          hosts:
            one: {ansible_connection: local, runbook_lock_path: %s/lock-one}
        """
                .formatted(tmp));
    Path rb =
        Files.writeString(
            tmp.resolve("rb.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: killed in a loop
        hosts: all
        phases:
          deploy:
            - name: Add [=item]
              loop: [a, b, c]
              shell: echo [=item] >> %1$s/added && if [ [=item] = b ]; then touch %1$s/in-b; sleep 30.0581; fi
              rollback:
                - name: Remove [=item]
                  shell: echo [=item] >> %1$s/removed
        """
                .formatted(work));
    Path state = tmp.resolve("state");
    // its own session: stopping the killed run's commands must not reach this test's process group
    Process controller =
        Cli.child(
                tmp.resolve("controller.log"),
                List.of("setsid"),
                List.of(
                    "apply",
                    rb.toString(),
                    "-i",
                    inventory.toString(),
                    "--yes",
                    "--state-dir",
                    state.toString()))
            .start();
    // checked below, with the controller's output
    Await.within(Duration.ofSeconds(40), () -> Files.exists(work.resolve("in-b")));
    assertThat(work.resolve("in-b")).as(Files.readString(tmp.resolve("controller.log"))).exists();
    controller.destroyForcibly().waitFor();
    String id;
    try (var runs = Files.list(state.resolve("runs"))) {
      id = runs.findFirst().orElseThrow().getFileName().toString();
    }

    Run resume =
        Cli.run("resume", id, "--yes", "--state-dir", state.toString(), "--orphan-wait", "1");

    assertThat(resume.code()).as(resume.out() + resume.err()).isEqualTo(2);
    assertThat(Files.readAllLines(work.resolve("added")))
        .as("c never ran")
        .containsExactly("a", "b");
    assertThat(Files.readAllLines(work.resolve("removed")))
        .as("b possibly done, then a; each once")
        .containsExactly("b", "a");
    assertThat(resume.out()).contains("Remove b").contains("Remove a");

    Run rollback = Cli.run("rollback", id, "--yes", "--state-dir", state.toString());
    assertThat(rollback.code()).as(rollback.out() + rollback.err()).isZero();
    assertThat(Files.readAllLines(work.resolve("removed"))).containsExactly("b", "a");
    assertThat(Processes.running("sleep 30.0581")).as("the killed run's command").isEmpty();
  }
}
