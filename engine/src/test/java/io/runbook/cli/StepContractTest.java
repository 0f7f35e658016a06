package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arguments are held to the same rules after templating as when written literally: a value that
 * comes from a variable or a registered result gets no pass (issue: {@code mode: "u+x"} refused at
 * validate, while {@code mode: "[=m.stdout?trim]"} rendering to it ran and left {@code
 * -rwx------}).
 */
class StepContractTest {
  @TempDir Path tmp;

  @Test
  void aRenderedArgumentIsValidatedLikeALiteralOneBeforeTheStepRuns() throws Exception {
    Path inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          hosts:
            one: {ansible_connection: local, runbook_lock_path: %s/lock}
        """
                .formatted(tmp));
    Path target = tmp.resolve("app.conf");
    Path rb =
        Files.writeString(
            tmp.resolve("rb.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: contract
        hosts: all
        phases:
          deploy:
            - name: Read the mode
              shell: echo u+x
              register: m
            - name: Install with that mode
              copy: {dest: "%s", content: "x\\n", mode: "[=m.stdout?trim]"}
        """
                .formatted(target));

    Run run =
        Cli.run(
            "apply",
            rb.toString(),
            "-i",
            inventory.toString(),
            "--yes",
            "--state-dir",
            tmp.resolve("state").toString());

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(run.out())
        .contains("invalid arguments once rendered")
        .contains("\"u+x\" is not valid");
    assertThat(target).as("the step never ran").doesNotExist();
  }

  @Test
  void namesAreShownWithTheValuesKnownWhenTheyAreShown() throws Exception {
    Path inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          hosts:
            one: {ansible_connection: local, runbook_lock_path: %s/lock}
        """
                .formatted(tmp));
    Path rb =
        Files.writeString(
            tmp.resolve("rb.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: Upgrade flagsvc to [=target_version]
        hosts: all
        vars: {target_version: 2.0.0}
        phases:
          preflight:
            - name: Installed version
              shell: echo 1.2.3
              register: installed
          deploy:
            - name: Switch from [=installed.stdout?trim]
              shell: "true"
              rollback:
                - name: Back to [=installed.stdout?trim]
                  shell: "true"
            - name: Fail after [=installed.stdout?trim]
              shell: "false"
        """);

    Run run =
        Cli.run(
            "apply",
            rb.toString(),
            "-i",
            inventory.toString(),
            "--yes",
            "--state-dir",
            tmp.resolve("state").toString());

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(run.out())
        .contains("· Upgrade flagsvc to 2.0.0 ·")
        .contains("'Fail after 1.2.3' failed")
        .contains("Back to 1.2.3")
        .doesNotContain("⟨")
        .doesNotContain("[=");
  }
}
