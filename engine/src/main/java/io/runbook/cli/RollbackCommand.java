package io.runbook.cli;

import io.runbook.execution.Plan;
import io.runbook.execution.RunState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = {"Undo a finished or halted run on every host it changed, newest batch first, with the "
        + "rollback stacks and values its journal recorded (e.g. the backup made during that run).",
        "Hosts that the run already rolled back, or never changed, are not touched."})
final class RollbackCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run to undo (see runbook history).")
  String runId;

  @Option(names = "--force", description = "Undo even though the runbook file changed since the run.")
  boolean force;

  @Mixin RunOptions run;

  @Override
  public Integer call() throws Exception {
    RunState state = RunState.read(run.stateDir, RunIds.resolve(run.stateDir, runId));
    Plan plan = Inputs.replan(state, force);
    return run.execute(spec, plan, "Roll back", true, executor -> executor.rollback(plan, state));
  }
}
