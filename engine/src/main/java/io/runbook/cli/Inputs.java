package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.engine.Engine;
import io.runbook.execution.Plan;
import io.runbook.inventory.ExtraVars;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.inventory.Vault;
import io.runbook.rehearsal.PlanHash;
import io.runbook.rehearsal.Rehearsals;
import io.runbook.secret.SecretValues;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** What the commands read from their options besides the plan (which {@link Engine} makes). */
final class Inputs {

  private Inputs() {}

  static Path cwd() {
    return Path.of("").toAbsolutePath();
  }

  /**
   * The inventory of every {@code -i} source, in order; {@code runbookDir} (or null) is where the
   * runbook's own group_vars/ and host_vars/ are looked for.
   */
  static Inventory inventory(List<String> args, Path runbookDir, Vault vault, Problems problems) {
    return InventoryLoader.load(Engine.sources(args), runbookDir, vault, Engine::display, problems)
        .orElse(null);
  }

  /**
   * The names of the hosts that {@code pattern} selects in the inventory a run recorded (its
   * sources, as {@link Engine#sourcesOf} reads them); none is an input error.
   */
  static List<String> select(String inventoryArg, String pattern) {
    Problems problems = new Problems();
    Inventory inventory =
        inventory(
            Engine.sourcesOf(inventoryArg),
            null,
            Vault.fromOptions(List.of(), List.of(), System.getenv()),
            problems);
    problems.throwIfAny();
    List<String> names = inventory.select(pattern).stream().map(h -> h.name()).toList();
    if (names.isEmpty()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, "--limit '" + pattern + "' matches no host of " + inventoryArg);
    }
    return names;
  }

  /**
   * Secret values too short to mask are shown as they are: say which variables (never their
   * values).
   */
  static void warnUnmasked(CommandLine.Model.CommandSpec spec, SecretValues secrets) {
    if (secrets.tooShort().isEmpty()) return;
    spec.commandLine()
        .getErr()
        .println(
            "runbook: warning: secret variable(s) "
                + String.join(", ", secrets.tooShort())
                + " hold fewer than "
                + SecretValues.MIN_LENGTH
                + " characters and are not masked in output");
    spec.commandLine().getErr().flush();
  }

  static Map<String, Object> extraVars(List<String> extra, Problems problems) {
    return extraVars(extra, Vault.fromOptions(List.of(), List.of(), System.getenv()), problems);
  }

  /** {@code -e} arguments as Ansible takes them (see {@link ExtraVars}). */
  static Map<String, Object> extraVars(List<String> extra, Vault vault, Problems problems) {
    return ExtraVars.parse(extra, vault, new LinkedHashSet<>(), cwd(), problems);
  }

  /**
   * A warning on {@code err} for each {@code -e} variable that nothing in the plan reads (it
   * changes nothing).
   */
  static void warnUnread(PrintWriter err, Plan plan, List<String> extra) {
    List<String> unread =
        io.runbook.rehearsal.ExtraVars.unread(plan, extraVars(extra, new Problems()));
    if (unread.isEmpty()) return;
    String modes =
        String.join(
            ", ",
            plan.hosts().stream().map(h -> h.mode() == null ? "-" : h.mode()).distinct().toList());
    for (String name : unread) {
      err.println(
          "warning: -e "
              + name
              + " is read by no step, variable or template of this plan (mode(s) "
              + modes
              + "): it changes nothing");
    }
    err.flush();
  }

  /**
   * The "rehearsed on" line of apply and plan for this runbook, inventory and plan (null: nothing
   * to say, the runbook asks for no rehearsal and never had one).
   */
  static String rehearsalStatus(
      Path stateDir, Path runbookFile, List<String> inventoryArgs, Plan plan, List<String> extra) {
    return Rehearsals.status(
        stateDir,
        runbookFile,
        Engine.sources(inventoryArgs),
        PlanHash.of(plan, extraVars(extra, new Problems())),
        Rehearsals.declared(plan.runbook()));
  }

  /** Paths in messages are relative to where the user stands, as they typed them. */
  static String display(Path file) {
    return Engine.display(file);
  }

  static Path existing(String file) {
    Path p = Path.of(file);
    if (!p.toFile().exists()) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, file + ": file not found");
    }
    return p;
  }
}
