package io.runbook.cli;

import io.runbook.inventory.InventoryLoader;
import io.runbook.model.RunbookParser;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description =
        "Check runbooks and inventories and print every problem found, with file:line:col. "
            + "A file with a runbook header (apiVersion, kind), phases or modes is a runbook; one with 'all:' "
            + "or other groups is an inventory.")
final class ValidateCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Runbook or inventory files.")
  List<Path> files;

  @Override
  public Integer call() {
    Problems problems = new Problems();
    for (Path f : files) {
      String name = Inputs.display(f);
      if (isRunbook(f, name)) {
        RunbookParser.parse(f, name, problems);
      } else {
        InventoryLoader.load(f, name, problems);
      }
    }
    problems.throwIfAny();
    files.forEach(f -> spec.commandLine().getOut().println(Inputs.display(f) + ": ok"));
    return 0;
  }

  /** Runbooks have a header or phases; inventories start with groups ({@code all:}). */
  private static boolean isRunbook(Path f, String name) {
    Problems ignored = new Problems();
    return YamlLoader.load(f, name, ignored)
        .map(
            d ->
                d.root() instanceof Map<?, ?> m
                    && !m.containsKey("all")
                    && (m.containsKey("apiVersion")
                        || m.containsKey("kind")
                        || m.containsKey("modes")
                        || m.containsKey("phases")
                        || m.get("hosts") instanceof String))
        // Not YAML at all: an INI inventory, unless it is named like YAML (a broken runbook, then).
        .orElse(
            (f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                && !f.toString().contains("inventor"));
  }
}
