package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.model.Runbook;
import io.runbook.model.RunbookParser;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/** Loads a runbook and an inventory, parses {@code -e} variables and plans: every problem at once. */
final class Inputs {
  private static final Pattern EXTRA = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(.*)", Pattern.DOTALL);

  private Inputs() {}

  static Path cwd() {
    return Path.of("").toAbsolutePath();
  }

  static Inventory inventory(String arg, Problems problems) {
    Path file = InventoryLoader.resolve(arg, cwd());
    return InventoryLoader.load(file, display(file), problems).orElse(null);
  }

  /** Parses, validates and plans; throws with every problem found in any of the inputs. */
  static Plan plan(Path runbookFile, String inventoryArg, String limit, List<String> extra,
      UnaryOperator<Runbook> overrides) {
    Instant now = Instant.now();
    return plan(runbookFile, inventoryArg, limit, extra, overrides, Planner.newRunId(now), now);
  }

  /** Plans a run with a given id and timestamp (a resumed run keeps its own). */
  static Plan plan(Path runbookFile, String inventoryArg, String limit, List<String> extra,
      UnaryOperator<Runbook> overrides, String runId, Instant createdAt) {
    Problems problems = new Problems();
    Optional<Runbook> runbook = RunbookParser.parse(runbookFile, display(runbookFile), problems);
    Inventory inventory = inventory(inventoryArg, problems);
    Map<String, Object> vars = extraVars(extra, problems);
    problems.throwIfAny();
    return new Planner(overrides.apply(runbook.orElseThrow()), inventory,
        display(InventoryLoader.resolve(inventoryArg, cwd()))).plan(limit, vars, runId, createdAt);
  }

  /** Plans a past run again, as its journal says it was asked for, with its own id and timestamp. */
  static Plan replan(io.runbook.execution.RunState state, boolean force) {
    var req = state.request();
    Path runbook = Path.of(req.runbookPath());
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
    req.extraVars().forEach((k, v) -> extra.add(k + "=" + v));
    io.runbook.model.Rollout.Policy policy = io.runbook.model.Rollout.Policy.of(req.onFailure());
    return plan(runbook, req.inventoryPath(), req.limit(), extra,
        r -> r.withRollout(r.rollout().with(req.serial(), req.maxFailPercentage(), policy, null)),
        state.runId(), req.createdAt());
  }

  static Map<String, Object> extraVars(List<String> extra, Problems problems) {
    Map<String, Object> vars = new LinkedHashMap<>();
    if (extra == null) return vars;
    for (String e : extra) {
      var m = EXTRA.matcher(e);
      if (!m.matches()) {
        problems.add(Location.of("-e " + e), "expected KEY=VALUE with KEY an identifier such as target_version");
        continue;
      }
      vars.put(m.group(1), scalar(m.group(2)));
    }
    return vars;
  }

  /** {@code -e n=3} is a number and {@code -e x=true} a boolean, as they would be in YAML. */
  private static Object scalar(String v) {
    if (v.equals("true") || v.equals("false")) return Boolean.valueOf(v);
    if (v.matches("-?[0-9]{1,18}")) return Long.parseLong(v);
    return v;
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
  static String rehearsalStatus(Path stateDir, Path runbookFile, String inventoryArg, Plan plan, List<String> extra) {
    return io.runbook.rehearsal.Rehearsals.status(stateDir, runbookFile,
        io.runbook.inventory.InventoryLoader.resolve(inventoryArg, cwd()),
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
