package io.runbook.cli;

import java.util.List;
import picocli.CommandLine.Option;

/** The options that choose hosts and variables, shared by apply and plan. */
final class TargetOptions {
  @Option(names = {"-i", "--inventory"}, required = true, paramLabel = "INVENTORY",
      description = "Inventory file, or NAME for inventory/NAME.yaml.")
  String inventory;

  @Option(names = {"-l", "--limit"}, paramLabel = "PATTERN",
      description = "Only hosts that also match this pattern (host, group, glob, 'a,b', '!x').")
  String limit;

  @Option(names = {"-e", "--extra-vars"}, paramLabel = "KEY=VALUE",
      description = "A variable that overrides every other (repeatable).")
  List<String> extraVars;
}
