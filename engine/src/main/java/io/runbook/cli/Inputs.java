package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.inventory.Vault;
import io.runbook.inventory.ExtraVars;
import io.runbook.model.Runbook;
import io.runbook.model.RunbookParser;
import io.runbook.secret.SecretValues;
import io.runbook.secret.SecretsFile;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Loads a runbook and an inventory, parses {@code -e} variables and plans: every problem at once. */
final class Inputs {

  private Inputs() {}

  static Path cwd() {
    return Path.of("").toAbsolutePath();
  }

  /**
   * The inventory of every {@code -i} source, in order; {@code runbookDir} (or null) is where the runbook's
   * own group_vars/ and host_vars/ are looked for.
   */
  static Inventory inventory(List<String> args, Path runbookDir, Vault vault, Problems problems) {
    return InventoryLoader.load(sources(args), runbookDir, vault, Inputs::display, problems).orElse(null);
  }

  static List<Path> sources(List<String> args) {
    return args.stream().map(a -> InventoryLoader.resolve(a, cwd())).toList();
  }

  /** How plans and journals name the sources: each absolute path, comma-separated (a path rarely holds one). */
  static String sourcesRecord(List<String> args) {
    return String.join(",", sources(args).stream().map(p -> p.toAbsolutePath().toString()).toList());
  }

  /** The sources a journal recorded with {@link #sourcesRecord}. */
  static List<String> sourcesOf(String record) {
    return List.of(record.split(","));
  }

  /** One inventory source, vault passwords from the environment only. */
  static Plan plan(Path runbookFile, String inventoryArg, String limit, List<String> extra,
      UnaryOperator<Runbook> overrides) {
    return plan(runbookFile, List.of(inventoryArg), Vault.fromOptions(List.of(), List.of(), System.getenv()), limit,
        extra, overrides);
  }

  /**
   * The names of the hosts that {@code pattern} selects in the inventory a run recorded (its sources, as
   * {@link #sourcesOf} reads them); none is an input error.
   */
  static List<String> select(String inventoryArg, String pattern) {
    Problems problems = new Problems();
    Inventory inventory = inventory(sourcesOf(inventoryArg), null,
        Vault.fromOptions(List.of(), List.of(), System.getenv()), problems);
    problems.throwIfAny();
    List<String> names = inventory.select(pattern).stream().map(h -> h.name()).toList();
    if (names.isEmpty()) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "--limit '" + pattern + "' matches no host of " + inventoryArg);
    }
    return names;
  }

  /** Parses, validates and plans; throws with every problem found in any of the inputs. */
  static Plan plan(Path runbookFile, List<String> inventoryArgs, Vault vault, String limit, List<String> extra,
      UnaryOperator<Runbook> overrides) {
    Instant now = Instant.now();
    return plan(runbookFile, inventoryArgs, vault, limit, extra, overrides, Planner.newRunId(now), now);
  }

  /** Plans a run with a given id and timestamp (a resumed run keeps its own). */
  static Plan plan(Path runbookFile, List<String> inventoryArgs, Vault vault, String limit, List<String> extra,
      UnaryOperator<Runbook> overrides, String runId, Instant createdAt) {
    Problems problems = new Problems();
    Optional<Runbook> runbook = RunbookParser.parse(runbookFile, display(runbookFile), problems);
    Path runbookDir = runbookFile.toAbsolutePath().getParent();
    Inventory inventory = inventory(inventoryArgs, runbookDir, vault, problems);
    java.util.Set<String> extraSecrets = new java.util.LinkedHashSet<>();
    Map<String, Object> vars = ExtraVars.parse(extra, vault, extraSecrets, cwd(), problems);
    problems.throwIfAny();
    inventory = inventory.withSecrets(extraSecrets);
    String name = String.join(", ", sources(inventoryArgs).stream().map(Inputs::display).toList());
    return new Planner(overrides.apply(runbook.orElseThrow()), inventory, name).plan(limit, vars, runId, createdAt);
  }

  /** Plans a past run again, as its journal says it was asked for, with its own id and timestamp. */
  static Plan replan(io.runbook.execution.RunState state, boolean force) {
    var req = state.request();
    Path runbook = Path.of(req.runbookPath());
    // Hashing reads the whole file: only a regular one, since a FIFO put in its place would hang here.
    if (Files.exists(runbook) && !Files.isRegularFile(runbook)) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, req.runbookPath() + " is no longer a regular file"
          + " (a directory, FIFO or device); put the runbook of run " + state.runId() + " back");
    }
    try {
      String now = io.runbook.cli.ApplyCommand.sha256(runbook);
      if (!now.equals(req.runbookSha256()) && !force) {
        throw new RunbookException(ErrorCode.INVALID_INPUT, req.runbookPath() + " changed since run " + state.runId()
            + " started: resuming or undoing it with different steps could do harm. Restore the file, or pass --force.");
      }
    } catch (RunbookException e) {
      throw e;
    } catch (Exception e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "cannot read " + req.runbookPath() + ": " + e.getMessage());
    }
    List<String> extra = new java.util.ArrayList<>();
    // As JSON, so that values keep their types (and lists and maps survive) on the way back in; secret
    // values come back from the run's private secrets file, since the journal holds them masked.
    Map<String, Object> extraVars = SecretsFile.restore(state.dir(), req.extraVars());
    if (!extraVars.isEmpty()) {
      try {
        extra.add(io.runbook.journal.EventJson.mapper().writeValueAsString(extraVars));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    io.runbook.model.Rollout.Policy policy = io.runbook.model.Rollout.Policy.of(req.onFailure());
    // Vault passwords are not journaled: a resumed run reads them from ANSIBLE_VAULT_PASSWORD_FILE.
    Vault vault = Vault.fromOptions(List.of(), List.of(), System.getenv());
    return plan(runbook, sourcesOf(req.inventoryPath()), vault, req.limit(), extra,
        r -> r.withRollout(r.rollout().with(req.serial(), req.maxFailPercentage(), policy, null)),
        state.runId(), req.createdAt());
  }

  /** Secret values too short to mask are shown as they are: say which variables (never their values). */
  static void warnUnmasked(CommandLine.Model.CommandSpec spec, SecretValues secrets) {
    if (secrets.tooShort().isEmpty()) return;
    spec.commandLine().getErr().println("runbook: warning: secret variable(s) " + String.join(", ", secrets.tooShort())
        + " hold fewer than " + SecretValues.MIN_LENGTH + " characters and are not masked in output");
    spec.commandLine().getErr().flush();
  }

  static Map<String, Object> extraVars(List<String> extra, Problems problems) {
    return extraVars(extra, Vault.fromOptions(List.of(), List.of(), System.getenv()), problems);
  }

  /** {@code -e} arguments as Ansible takes them (see {@link ExtraVars}). */
  static Map<String, Object> extraVars(List<String> extra, Vault vault, Problems problems) {
    return ExtraVars.parse(extra, vault, new java.util.LinkedHashSet<>(), cwd(), problems);
  }

  /** Paths in messages are relative to where the user stands, as they typed them. */
  /** A warning on {@code err} for each {@code -e} variable that nothing in the plan reads (it changes nothing). */
  static void warnUnread(java.io.PrintWriter err, Plan plan, List<String> extra) {
    List<String> unread = io.runbook.rehearsal.ExtraVars.unread(plan, extraVars(extra, new Problems()));
    if (unread.isEmpty()) return;
    String modes = String.join(", ", plan.hosts().stream().map(h -> h.mode() == null ? "-" : h.mode()).distinct().toList());
    for (String name : unread) {
      err.println("warning: -e " + name + " is read by no step, variable or template of this plan (mode(s) " + modes
          + "): it changes nothing");
    }
    err.flush();
  }

  /**
   * The "rehearsed on" line of apply and plan for this runbook, inventory and plan (null: nothing to say,
   * the runbook asks for no rehearsal and never had one).
   */
  static String rehearsalStatus(Path stateDir, Path runbookFile, List<String> inventoryArgs, Plan plan,
      List<String> extra) {
    return io.runbook.rehearsal.Rehearsals.status(stateDir, runbookFile, sources(inventoryArgs),
        io.runbook.rehearsal.PlanHash.of(plan, extraVars(extra, new Problems())),
        io.runbook.rehearsal.Rehearsals.declared(plan.runbook()));
  }

  static String display(Path file) {
    Path abs = file.toAbsolutePath().normalize();
    Path cwd = cwd();
    return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
  }

  static Path existing(String file) {
    Path p = Path.of(file);
    if (!p.toFile().exists()) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, file + ": file not found");
    }
    return p;
  }
}
