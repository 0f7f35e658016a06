package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.docs.StepReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Rewrites the generated documentation in a checkout: docs/steps.md and README.md's step list.
 * Hidden: it is for whoever changes a step schema or adds a step type (StepReferenceTest names it
 * when the committed pages are stale), not for people running upgrades.
 */
@Command(
    name = "docs",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = "Regenerate docs/steps.md and README.md's step list from the step schemas.")
final class DocsCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "WHAT",
      description = "steps (the only generated reference so far).")
  String what;

  @Option(
      names = "--root",
      paramLabel = "DIR",
      description =
          "The checkout to write into (default: where the launcher lives, else the current directory).")
  Path root;

  @Override
  public Integer call() throws IOException {
    if (!what.equals("steps")) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, "no generated docs named '" + what + "': use steps");
    }
    Path dir = root != null ? root : Path.of(System.getProperty("runbook.home", "."));
    Path readme = dir.resolve("README.md");
    Path steps = dir.resolve("docs/steps.md");
    if (!Files.isRegularFile(readme) || !Files.isDirectory(steps.getParent())) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          dir.toAbsolutePath().normalize()
              + " is not a runbook checkout (it needs README.md and docs/): pass --root DIR");
    }
    String oldReadme = Files.readString(readme, StandardCharsets.UTF_8);
    String newReadme;
    try {
      newReadme = StepReference.withReadmeList(oldReadme);
    } catch (IllegalArgumentException e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, readme + ": " + e.getMessage());
    }
    Files.writeString(steps, StepReference.page(), StandardCharsets.UTF_8);
    if (!newReadme.equals(oldReadme)) Files.writeString(readme, newReadme, StandardCharsets.UTF_8);
    spec.commandLine().getOut().println("wrote " + steps + " and the step list of " + readme);
    return 0;
  }
}
