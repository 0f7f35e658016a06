package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.EventBus;
import io.runbook.execution.Executor;
import io.runbook.execution.Plan;
import io.runbook.execution.StandardConnector;
import io.runbook.journal.EventJson;
import io.runbook.journal.JournalWriter;
import io.runbook.result.RunResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "apply", mixinStandardHelpOptions = true,
    description = {"Run a runbook on the inventory's hosts. On a host where a step fails, the rollback handlers "
        + "of the steps that completed there run in reverse order, then the runbook's rollback phase.",
        "Writes the run's journal to <state-dir>/runs/<run-id>/journal.jsonl."})
final class ApplyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUNBOOK", description = "The runbook file (YAML).")
  String runbook;

  @Mixin TargetOptions target;
  @Mixin ConnectionOptions connection;

  @Option(names = "--forks", defaultValue = "10", description = "Hosts to run in parallel (default ${DEFAULT-VALUE}).")
  int forks;

  @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation (required without a terminal).")
  boolean yes;

  @Option(names = "--json", description = "Stream the run's events to stdout as JSON lines instead of the console view.")
  boolean json;

  @Option(names = "--state-dir", defaultValue = ".runbook", description = "Where run journals are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (forks < 1) throw new RunbookException(ErrorCode.INVALID_INPUT, "--forks must be at least 1");
    Plan plan = Inputs.plan(Inputs.existing(runbook), target.inventory, target.limit, target.extraVars);
    if (!yes && !confirm(plan, out)) {
      return ErrorCode.INVALID_INPUT.exitCode();
    }
    try (JournalWriter journal = JournalWriter.open(stateDir, plan.runId())) {
      EventBus bus = new EventBus().add(journal);
      if (json) {
        bus.add(e -> {
          out.println(EventJson.line(e));
          out.flush();
        });
      } else {
        boolean color = System.console() != null && System.getenv("NO_COLOR") == null;
        bus.add(new ConsoleListener(out, color, Inputs.display(journal.file())));
      }
      RunResult result = new Executor(new StandardConnector(connection.settings()), bus, forks).run(plan);
      return result.exitCode();
    }
  }

  private boolean confirm(Plan plan, PrintWriter out) throws Exception {
    if (System.console() == null) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "no terminal to confirm on: pass --yes to apply "
          + plan.runbook().file() + " to " + plan.hosts().size() + " host(s) without asking");
    }
    List<String> names = new ArrayList<>();
    plan.hosts().forEach(h -> names.add(h.name()));
    out.print("Apply '" + plan.runbook().name() + "' to " + names.size() + " host(s): " + String.join(", ", names)
        + "? [y/N] ");
    out.flush();
    String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (answer != null && (answer.equalsIgnoreCase("y") || answer.equalsIgnoreCase("yes"))) return true;
    out.println("Nothing was run.");
    return false;
  }
}
