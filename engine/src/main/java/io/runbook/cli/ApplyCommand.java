package io.runbook.cli;

import io.runbook.engine.Engine;
import io.runbook.event.RunStarted;
import io.runbook.execution.Plan;
import io.runbook.journal.JournalWriter;
import io.runbook.rehearsal.ClientDowntime;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "apply",
    mixinStandardHelpOptions = true,
    description = {
      "Run a runbook on the inventory's hosts: lock them, run preflight on every host, then the rest "
          + "batch by batch (rollout.serial) with the rollout's health gate after each batch.",
      "On a host where a step fails, the rollback handlers of the steps that completed there run in reverse "
          + "order, then the runbook's rollback phase; on_failure decides what happens to the rollout.",
      "Ctrl-C lets the steps in flight finish, rolls back per policy, and exits with a recap.",
      "Writes the run's journal to <state-dir>/runs/<run-id>/journal.jsonl."
    })
final class ApplyCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUNBOOK", description = "The runbook file (YAML).")
  String runbook;

  @Mixin TargetOptions target;
  @Mixin RolloutOptions rollout;
  @Mixin RunOptions run;

  @CommandLine.Option(
      names = "--measure-downtime",
      description =
          "Poll each host's health URL "
              + "(rehearsal.health, else the first http step of verify) every 200 ms during the run, on a connection of "
              + "its own, and report the downtime a client saw: after the recap and in downtime.json beside the journal.")
  boolean measureDowntime;

  @Override
  public Integer call() throws Exception {
    Path file = Inputs.existing(runbook);
    Plan plan = Engine.plan(target.request(file, rollout));
    RunStarted.Request request =
        Engine.started(
            plan,
            file,
            Engine.sourcesRecord(target.inventory),
            target.limit,
            Inputs.extraVars(target.extraVars, target.vault(), new Problems()));
    // Whether this very plan was rehearsed; on stderr under --json, whose stdout is JSON lines
    // only.
    Inputs.warnUnread(spec.commandLine().getErr(), plan, target.extraVars);
    String rehearsed =
        Inputs.rehearsalStatus(run.stateDir, file, target.inventory, plan, target.extraVars);
    if (rehearsed != null)
      (run.json ? spec.commandLine().getErr() : spec.commandLine().getOut()).println(rehearsed);
    if (!measureDowntime) return run.execute(spec, plan, request);
    ClientDowntime probes = ClientDowntime.start(plan, run.connection.settings());
    try {
      return run.execute(spec, plan, request);
    } finally {
      Map<String, Long> down = probes.stop();
      PrintWriter out = run.json ? spec.commandLine().getErr() : spec.commandLine().getOut();
      out.println(
          down.isEmpty()
              ? "downtime: no host has a health URL to measure it with"
              : "downtime as the health URL saw it: "
                  + String.join(
                      ", ",
                      down.entrySet().stream()
                          .map(e -> e.getKey() + " " + e.getValue() + " ms")
                          .toList()));
      out.flush();
      Path dir = JournalWriter.runDir(run.stateDir, plan.runId());
      if (Files.isDirectory(dir)) probes.write(dir, down);
    }
  }
}
