package io.runbook.cli;

import io.runbook.engine.Engine;
import io.runbook.execution.Batches;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.execution.PlannedStep;
import io.runbook.model.Phase;
import io.runbook.model.Rollout;
import io.runbook.secret.Redactor;
import io.runbook.secret.SecretValues;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description =
        "Print, per host, the mode chosen and the resolved steps in order with their rollback "
            + "handlers. Connects to nothing and changes nothing; fails like apply would on invalid input.")
final class PlanCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUNBOOK", description = "The runbook file (YAML).")
  String runbook;

  @Mixin TargetOptions target;
  @Mixin RolloutOptions rollout;

  @CommandLine.Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      description =
          "Where runs and rehearsals are kept, to say whether this plan was rehearsed (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Override
  public Integer call() {
    Plan plan = Engine.plan(target.request(Inputs.existing(runbook), rollout));
    Inputs.warnUnread(spec.commandLine().getErr(), plan, target.extraVars);
    SecretValues secrets = SecretValues.of(plan);
    Inputs.warnUnmasked(spec, secrets);
    print(plan, spec.commandLine().getOut(), secrets.redactor());
    String rehearsed =
        Inputs.rehearsalStatus(
            stateDir, Inputs.existing(runbook), target.inventory, plan, target.extraVars);
    if (rehearsed != null) {
      spec.commandLine().getOut().println();
      spec.commandLine().getOut().println(rehearsed);
    }
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Prints the plan with every secret value masked (before long previews are cut short). */
  static void print(Plan plan, PrintWriter real, Redactor redactor) {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    write(plan, out, redactor);
    out.flush();
    real.print(redactor.text(text.toString()));
    real.flush();
  }

  private static void write(Plan plan, PrintWriter out, Redactor redactor) {
    out.println(
        "Plan: "
            + plan.displayName()
            + " ("
            + plan.runbook().file()
            + ") · inventory "
            + plan.inventory()
            + " · "
            + plan.hosts().size()
            + " host(s)");
    Rollout r = plan.runbook().rollout();
    List<List<HostPlan>> batches = Batches.split(plan.hosts(), r.serial());
    out.println(
        "Rollout: preflight on every host first, then "
            + batches.size()
            + " batch(es): "
            + String.join(
                " → ",
                batches.stream()
                    .map(
                        b -> "[" + String.join(", ", b.stream().map(HostPlan::name).toList()) + "]")
                    .toList()));
    out.println(
        "  on_failure "
            + r.onFailure().key()
            + ", max_fail_percentage "
            + r.maxFailPercentage()
            + (r.confirm() ? ", confirm before each batch" : "")
            + (plan.hosts().isEmpty() || r.gate().isEmpty()
                ? ""
                : ", gate after each batch: "
                    + String.join(
                        ", ",
                        plan.hosts().get(0).gate().stream()
                            .map(g -> g.name() + " [" + g.type() + "]")
                            .toList())));
    once(plan, Phase.BEFORE_ALL, out, redactor);
    for (HostPlan h : plan.hosts()) {
      out.println();
      String conn =
          h.host().connection().equals("local")
              ? "local"
              : (h.host().user() == null ? "" : h.host().user() + "@")
                  + h.host().address()
                  + ":"
                  + h.host().port();
      out.println(
          "host " + h.name() + " (" + conn + ") · mode " + (h.mode() == null ? "-" : h.mode()));
      Phase current = null;
      for (PlannedStep s : h.steps()) {
        if (s.phase() != current) {
          current = s.phase();
          out.println("  " + current.key());
        }
        step(out, "    " + String.format("%2d. ", s.index()), s, redactor);
        if (!s.handlers().isEmpty()) {
          for (PlannedStep handler : s.handlers())
            step(out, "        ↺ rollback: ", handler, redactor);
        } else if (s.autoUndo()) {
          out.println("        ↺ rollback: automatic (the " + s.type() + " step's own undo)");
        }
      }
      if (!h.rollbackPhase().isEmpty()) {
        out.println("  rollback (after the handlers above, last first, on failure)");
        for (PlannedStep s : h.rollbackPhase()) step(out, "     - ", s, redactor);
      }
    }
    once(plan, Phase.AFTER_ALL, out, redactor);
    out.flush();
  }

  /**
   * A run-once phase as its own block: "before all, on db", where it runs and when, its steps and
   * undo.
   */
  private static void once(Plan plan, Phase phase, PrintWriter out, Redactor redactor) {
    if (plan.once() == null) return;
    List<PlannedStep> steps = plan.once().steps().stream().filter(s -> s.phase() == phase).toList();
    if (steps.isEmpty()) return;
    HostPlan h = plan.once();
    out.println();
    String where =
        h.host().connection().equals("local")
            ? "local"
            : (h.host().user() == null ? "" : h.host().user() + "@")
                + h.host().address()
                + ":"
                + h.host().port();
    out.println(
        (phase == Phase.BEFORE_ALL ? "before all" : "after all")
            + ", on "
            + h.host().name()
            + " ("
            + where
            + ") · "
            + (phase == Phase.BEFORE_ALL
                ? "once, after every host's preflight, before batch 1; undone after every rolled-back host"
                : "once, after the last batch passed; a failure rolls nothing back"));
    for (PlannedStep s : steps) {
      step(out, "    " + String.format("%2d. ", s.index()), s, redactor);
      if (!s.handlers().isEmpty()) {
        for (PlannedStep handler : s.handlers())
          step(out, "        ↺ rollback: ", handler, redactor);
      } else if (s.autoUndo()) {
        out.println("        ↺ rollback: automatic (the " + s.type() + " step's own undo)");
      }
    }
  }

  private static void step(PrintWriter out, String prefix, PlannedStep s, Redactor redactor) {
    StringBuilder line =
        new StringBuilder(prefix).append(s.name()).append("  [").append(s.type()).append(']');
    if (s.delegate() != null) line.append("  → on ").append(s.delegate());
    String preview = redactor.text(s.preview());
    if (preview != null && preview.length() > 110) preview = preview.substring(0, 107) + "...";
    if (preview != null && !preview.isEmpty()) line.append("  ").append(preview);
    out.println(line);
    if (s.spec().loop() != null) {
      String items =
          redactor.text(
              s.spec().loop() instanceof List<?> l
                  ? String.join(", ", l.stream().map(String::valueOf).toList())
                  : String.valueOf(s.spec().loop()));
      if (items.length() > 100) items = items.substring(0, 97) + "...";
      out.println(" ".repeat(prefix.length()) + "loop (" + s.spec().loopVar() + "): " + items);
    }
    if (s.spec().when() != null)
      out.println(" ".repeat(prefix.length()) + "when: " + s.spec().when());
  }
}
