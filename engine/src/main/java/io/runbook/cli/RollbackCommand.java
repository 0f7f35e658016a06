package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.engine.Engine;
import io.runbook.execution.Executor;
import io.runbook.execution.Plan;
import io.runbook.execution.RunState;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description = {
      "Undo a finished or halted run on every host it changed, newest batch first, with the "
          + "rollback stacks and values its journal recorded (e.g. the backup made during that run).",
      "A host's undo runs at most once, ever: hosts that the run (or an earlier rollback) already rolled "
          + "back, or never changed, are not touched, and a second rollback contacts no host."
    })
final class RollbackCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "RUN_ID",
      description = "The run to undo (see runbook history).")
  String runId;

  @Option(
      names = "--force",
      description = "Undo even though the runbook file changed since the run.")
  boolean force;

  @Option(
      names = {"-l", "--limit"},
      paramLabel = "PATTERN",
      description =
          "Undo only the hosts of the run that match this inventory pattern (e.g. 'web1,web2', '!db*').")
  String limit;

  @Option(
      names = "--after-cleanup",
      description =
          "Also undo hosts whose cleanup ran steps that cannot be undone "
              + "(e.g. removed the previous release); without it such hosts are refused, since rolling them back cannot "
              + "make them as they were.")
  boolean afterCleanup;

  @Mixin RunOptions run;

  @Override
  public Integer call() throws Exception {
    RunState state = RunState.read(run.stateDir, RunIds.resolve(run.stateDir, runId));
    Plan plan = Engine.replan(state, force);
    Set<String> only = null;
    if (limit != null) {
      only = new LinkedHashSet<>(Inputs.select(state.request().inventoryPath(), limit));
      only.retainAll(plan.hosts().stream().map(h -> h.name()).toList());
      if (only.isEmpty()) {
        throw new RunbookException(
            ErrorCode.INVALID_INPUT,
            "--limit '"
                + limit
                + "' matches no host of run "
                + state.runId()
                + " (its hosts: "
                + String.join(", ", plan.hosts().stream().map(h -> h.name()).toList())
                + ")");
      }
    }
    List<String> todo = Executor.undoable(plan, state, only);
    Map<String, List<String>> past = new LinkedHashMap<>(Executor.pastCleanup(plan, state));
    past.keySet().retainAll(todo);
    if (!past.isEmpty() && !afterCleanup) {
      List<String> lines =
          past.entrySet().stream()
              .map(e -> e.getKey() + " ('" + String.join("', '", e.getValue()) + "')")
              .toList();
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "cannot roll back "
              + String.join(", ", lines)
              + ": the run's cleanup changed "
              + (past.size() == 1 ? "that host" : "those hosts")
              + " and cannot be undone, so a rollback would leave it neither upgraded nor as it was. Nothing was touched. "
              + "Roll back the other hosts with --limit '"
              + String.join(",", past.keySet().stream().map(h -> "!" + h).toList())
              + "', or pass --after-cleanup to undo what can be undone there anyway (give the cleanup a rollback: to make it undoable)");
    }
    state.requireKnown(
        todo.isEmpty() ? plan.hosts().stream().map(h -> h.name()).toList() : todo, "roll back");
    if (todo.isEmpty()) {
      spec.commandLine()
          .getOut()
          .println(
              "Nothing to undo: every host of run "
                  + state.runId()
                  + (only == null ? "" : " matching '" + limit + "'")
                  + " is already as it was before the run (rolled back, undone, or never changed). No host was contacted.");
      return 0;
    }
    Set<String> hosts = only;
    return run.execute(
        spec, plan, "Roll back", true, executor -> executor.rollback(plan, state, hosts));
  }
}
