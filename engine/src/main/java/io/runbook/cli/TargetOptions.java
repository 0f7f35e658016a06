package io.runbook.cli;

import io.runbook.engine.RunRequest;
import io.runbook.inventory.Vault;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The options that choose hosts and variables, shared by apply, plan and rehearse. */
final class TargetOptions {
  @Option(
      names = {"-i", "--inventory"},
      required = true,
      paramLabel = "INVENTORY",
      description =
          "Inventory file or directory (YAML, INI or executable, as Ansible reads them), or NAME for "
              + "inventory/NAME.yaml. Repeat to read several, in order.")
  List<String> inventory;

  @Option(
      names = {"-l", "--limit"},
      paramLabel = "PATTERN",
      description =
          "Only hosts that also match this pattern (host, group, glob, 'a,b', '!x', 'web[0:2]').")
  String limit;

  @Option(
      names = {"-e", "--extra-vars"},
      paramLabel = "VARS",
      description =
          "Variables that override every other (repeatable): KEY=VALUE [KEY=VALUE ...], "
              + "a JSON or YAML object ('{\"k\": [1, 2]}'), or @FILE (YAML or JSON).")
  List<String> extraVars;

  @Option(
      names = "--vault-password-file",
      paramLabel = "FILE",
      description =
          "File holding the Ansible Vault password (an executable file is run and its output used). Repeatable.")
  List<String> vaultPasswordFiles;

  @Option(
      names = "--vault-id",
      paramLabel = "[LABEL@]FILE",
      description =
          "A vault password file with its vault id label, as ansible --vault-id. Repeatable. "
              + "Without either option, ANSIBLE_VAULT_PASSWORD_FILE is read.")
  List<String> vaultIds;

  /**
   * What to plan: {@code runbook} on these hosts with these variables, the rollout options applied.
   */
  RunRequest request(Path runbook, RolloutOptions rollout) {
    return new RunRequest(runbook, inventory, vault(), limit, extraVars, rollout::apply);
  }

  Vault vault() {
    return Vault.fromOptions(vaultPasswordFiles, vaultIds, System.getenv());
  }
}
