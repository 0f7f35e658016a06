package io.runbook.engine;

import io.runbook.inventory.Vault;
import io.runbook.model.Runbook;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * What a run is asked to plan, as the user gave it: the runbook file, the inventory sources ({@code
 * -i}, in order), the vault passwords, the {@code --limit} pattern, the {@code -e} arguments and
 * the command-line overrides of the runbook (e.g. {@code --serial}).
 *
 * @param limit null for every host the runbook names
 */
public record RunRequest(
    Path runbook,
    List<String> inventory,
    Vault vault,
    String limit,
    List<String> extraVars,
    UnaryOperator<Runbook> overrides) {

  public RunRequest {
    Objects.requireNonNull(runbook, "runbook");
    inventory = List.copyOf(inventory);
    vault = vault == null ? Vault.fromOptions(List.of(), List.of(), System.getenv()) : vault;
    extraVars = extraVars == null ? List.of() : List.copyOf(extraVars);
    overrides = overrides == null ? UnaryOperator.identity() : overrides;
  }

  /**
   * One inventory source, vault passwords from the environment only, no limit, no {@code -e}, no
   * override.
   */
  public static RunRequest of(Path runbook, String inventory) {
    return new RunRequest(runbook, List.of(inventory), null, null, List.of(), null);
  }

  public RunRequest withLimit(String pattern) {
    return new RunRequest(runbook, inventory, vault, pattern, extraVars, overrides);
  }

  public RunRequest withExtraVars(List<String> extra) {
    return new RunRequest(runbook, inventory, vault, limit, extra, overrides);
  }

  public RunRequest withOverrides(UnaryOperator<Runbook> o) {
    return new RunRequest(runbook, inventory, vault, limit, extraVars, o);
  }
}
