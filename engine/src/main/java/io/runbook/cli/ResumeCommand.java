package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.engine.Engine;
import io.runbook.execution.Plan;
import io.runbook.execution.RunState;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "resume",
    mixinStandardHelpOptions = true,
    description = {
      "Continue a run whose controller stopped (killed, crashed, lost its network) from its journal.",
      "Hosts that finished are not touched again. Before acting on a host, waits for the dead controller's "
          + "command still running there (--orphan-wait), then stops it. A host whose step was in flight re-runs "
          + "that step if it is marked 'idempotent: true'; otherwise the step counts as possibly done and the "
          + "host is rolled back, the step's own rollback handlers included. Registered values of earlier steps "
          + "are restored; finished batches are not run again; the remaining batches run as they would have."
    })
final class ResumeCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "RUN_ID",
      description = "The run to continue (see runbook history).")
  String runId;

  @Option(
      names = "--force",
      description = "Resume even though the runbook file changed since the run started.")
  boolean force;

  @Mixin RunOptions run;

  @Override
  public Integer call() throws Exception {
    RunState state = RunState.read(run.stateDir, RunIds.resolve(run.stateDir, runId));
    if (state.finished()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "run "
              + state.runId()
              + " finished: nothing to resume "
              + "(runbook show "
              + state.runId()
              + " tells how it ended; runbook rollback "
              + state.runId()
              + " undoes it)");
    }
    Plan plan = Engine.replan(state, force);
    state.requireKnown(plan.hosts().stream().map(h -> h.name()).toList(), "resume");
    return run.execute(spec, plan, "Resume", true, executor -> executor.resume(plan, state));
  }
}
