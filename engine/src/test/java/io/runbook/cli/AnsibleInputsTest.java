package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an Ansible shop passes on the command line: several -i, INI, -e @file and JSON, vars beside
 * the runbook.
 */
class AnsibleInputsTest {
  @TempDir Path tmp;

  private Path write(String name, String text) throws IOException {
    Path p = tmp.resolve(name);
    Files.createDirectories(p.getParent());
    return Files.writeString(p, text);
  }

  private Path runbook(String extra) throws IOException {
    return write(
        "book/upgrade.yaml",
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: upgrade
        hosts: web
        %s
        phases:
          deploy:
            - name: Deploy [=release] [=n[1]] [=site] [=from_book]
              shell: echo [=release]
        """
            .formatted(extra));
  }

  @Test
  void extraVarsFilesJsonAndSeveralInventoriesAsAnsibleTakesThem() throws IOException {
    Path rb = runbook("");
    Path ini =
        write(
            "inv/hosts",
            "[web]\nweb1 ansible_connection=local ansible_port=2222\n[web:vars]\nsite=ini\n");
    Path yaml =
        write("inv2/more.yml", "web:\n  hosts:\n    web2:\n      ansible_connection: local\n");
    write("book/group_vars/web.yml", "from_book: beside-the-runbook\n");
    Path vars = write("vars.yml", "release: \"2.1\"\n");

    Run run =
        Cli.run(
            "plan",
            rb.toString(),
            "-i",
            ini.toString(),
            "-i",
            yaml.toString(),
            "-e",
            "@" + vars,
            "-e",
            "{\"n\": [1, 2]}");

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("Deploy 2.1 2 ini beside-the-runbook").contains("web2");
  }

  @Test
  void targetingAHostRunbookDoesNotDriveIsAnErrorNamingIt() throws IOException {
    Path rb = runbook("");
    Path inv =
        write(
            "inv/hosts",
            "[web]\nwin1 ansible_connection=winrm\n[other]\nsw1 ansible_connection=network_cli\n");
    Run run =
        Cli.run("plan", rb.toString(), "-i", inv.toString(), "-e", "release=1", "-e", "n=[1,2]");
    assertThat(run.code()).isEqualTo(4);
    assertThat(run.err())
        .contains("host 'win1' uses ansible_connection 'winrm', which runbook does not drive")
        .doesNotContain("sw1");
  }

  @Test
  void aModeVariableThatMeansSomethingElseIsReportedAndModeVariableSelectsAnother()
      throws IOException {
    String modes =
        """
        modes:
          compose:
            deploy:
              - name: Compose [=deploy_mode]
                shell: "true"
        """;
    Path inv =
        write(
            "inv.yml",
            "web:\n  hosts:\n    web1: {ansible_connection: local, mode: 0644, deploy_mode: compose}\n");
    Path plain =
        write("modes.yaml", "apiVersion: runbook/v1\nkind: Runbook\nname: m\nhosts: web\n" + modes);
    Run refused = Cli.run("plan", plain.toString(), "-i", inv.toString());
    assertThat(refused.code()).isEqualTo(4);
    assertThat(refused.err())
        .contains("host 'web1' has mode 420, which is not a mode of runbook")
        .contains("set mode_variable: deploy_mode in the runbook");

    Path named =
        write(
            "named.yaml",
            "apiVersion: runbook/v1\nkind: Runbook\nname: m\nhosts: web\n"
                + "mode_variable: deploy_mode\n"
                + modes);
    Run ok = Cli.run("plan", named.toString(), "-i", inv.toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("mode compose").contains("Compose compose");
  }
}
