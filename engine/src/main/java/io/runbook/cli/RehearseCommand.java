package io.runbook.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.engine.Engine;
import io.runbook.execution.Plan;
import io.runbook.rehearsal.Rehearsal;
import io.runbook.rehearsal.RehearsalReport;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "rehearse",
    mixinStandardHelpOptions = true,
    description = {
      "Rehearse a runbook before production: for each deployment mode of the targeted hosts, start "
          + "disposable containers (image: host variable rehearsal_image, default runbook/rehearsal:current), seed "
          + "them from their production hosts (read-only; secrets replaced) and restore the latest backup, run the "
          + "runbook on them exactly as apply would, roll the run back, and check that data and config are as before.",
      "Writes rehearsal.json and rehearsal.md next to the run's journal; apply then says whether the same plan "
          + "was rehearsed. The containers are removed afterwards unless --keep.",
      "One verdict (passed, failed, interrupted) is printed, written to rehearsal.json/rehearsal.md and recorded "
          + "under <state-dir>/rehearsals/ for this runbook, inventory and plan; history, show and report print it too.",
      "Ctrl-C lets the step in flight end, rolls the run back, then removes the copies.",
      "Exit code 0 when the upgrade and the rollback both passed, 2 when either failed (or the rehearsal could not "
          + "finish), 3 when a rollback handler failed on a rehearsal host, 130 when interrupted, 4 on invalid input."
    })
final class RehearseCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUNBOOK", description = "The runbook file (YAML).")
  String runbook;

  @Mixin TargetOptions target;
  @Mixin RolloutOptions rollout;
  @Mixin ConnectionOptions connection;

  @Option(
      names = "--hosts-per-mode",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Production hosts rehearsed per mode, the first N in inventory order (default ${DEFAULT-VALUE}).")
  int hostsPerMode;

  @Option(
      names = "--keep",
      description =
          "Leave the rehearsal containers running (their inventory is in the run directory).")
  boolean keep;

  @Option(
      names = "--forks",
      defaultValue = "10",
      description = "Hosts in parallel, as apply would use (default ${DEFAULT-VALUE}).")
  int forks;

  @Option(
      names = "--require-fresh-backup",
      description =
          "Refuse (exit 2) when a rehearsed host's newest backup is "
              + "older than what is installed there, or missing while the runbook backs up; without it that is a warning in the verdict.")
  boolean requireFreshBackup;

  @Option(names = "--json", description = "Print rehearsal.json instead of the console view.")
  boolean json;

  @Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      description = "Where runs are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Override
  public Integer call() throws Exception {
    if (hostsPerMode < 1)
      throw new RunbookException(ErrorCode.INVALID_INPUT, "--hosts-per-mode must be at least 1");
    if (forks < 1)
      throw new RunbookException(ErrorCode.INVALID_INPUT, "--forks must be at least 1");
    Path file = Inputs.existing(runbook);
    Plan plan = Engine.plan(target.request(file, rollout));
    Inputs.warnUnread(spec.commandLine().getErr(), plan, target.extraVars);
    PrintWriter out = spec.commandLine().getOut();
    boolean color = Terminal.present() && System.getenv("NO_COLOR") == null;
    Rehearsal rehearsal =
        new Rehearsal(
            new Rehearsal.Options(
                plan,
                file,
                Engine.sources(target.inventory),
                Inputs.extraVars(target.extraVars, target.vault(), new Problems()),
                hostsPerMode,
                keep,
                forks,
                stateDir,
                connection.settings(),
                json ? null : journal -> new ConsoleListener(out, color, Inputs.display(journal)),
                line -> {
                  if (!json) {
                    out.println(line);
                    out.flush();
                  }
                },
                requireFreshBackup,
                report -> {
                  // printed by the rehearsal before it says it is done: after Ctrl-C the JVM exits
                  // right then
                  try {
                    if (json) {
                      out.println(
                          new ObjectMapper()
                              .writerWithDefaultPrettyPrinter()
                              .writeValueAsString(report.toJson()));
                    } else {
                      out.println();
                      out.print(report.summary());
                      out.println(
                          "report: "
                              + Inputs.display(
                                  stateDir
                                      .resolve("runs")
                                      .resolve(report.runId())
                                      .resolve("rehearsal.md")));
                    }
                  } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                  }
                  out.flush();
                }));
    RehearsalReport report = rehearsal.run();
    return report.exitCode();
  }
}
