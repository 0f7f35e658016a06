package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.execution.Doctor;
import io.runbook.execution.StandardConnector;
import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.Vault;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Check that hosts are ready for a run, changing nothing: how each is reached (jump hosts, user,"
          + " what it logs in with), its host key, sudo (and whether it needs a password) and Docker; and what to fix.",
      "Exit 0 when every host is ready, 2 when one is not, 4 when one cannot be connected to as configured."
    })
final class DoctorCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"-i", "--inventory"},
      required = true,
      paramLabel = "INVENTORY",
      description = "Inventory file, or NAME for inventory/NAME.yaml.")
  String inventory;

  @Option(
      names = {"-l", "--limit"},
      paramLabel = "PATTERN",
      description = "Only hosts matching this pattern.")
  String limit;

  @Option(
      names = "--forks",
      defaultValue = "10",
      description = "Hosts checked in parallel (default ${DEFAULT-VALUE}).")
  int forks;

  @Mixin ConnectionOptions connection;

  @Override
  public Integer call() {
    Problems problems = new Problems();
    Inventory inv =
        Inputs.inventory(
            List.of(inventory),
            null,
            Vault.fromOptions(List.of(), List.of(), System.getenv()),
            problems);
    problems.throwIfAny();
    List<Host> hosts = inv.select(limit == null ? "all" : limit);
    PrintWriter out = spec.commandLine().getOut();
    if (hosts.isEmpty()) {
      out.println(
          "No host matches " + (limit == null ? "the inventory" : "--limit " + limit) + ".");
      return ErrorCode.INVALID_INPUT.exitCode();
    }
    List<Doctor.HostReport> reports =
        new Doctor(StandardConnector.forForks(connection.settings(), forks), forks).check(hosts);
    int ready = 0;
    boolean input = false;
    for (Doctor.HostReport r : reports) {
      out.println(r.host() + ": " + (r.ready() ? "ready" : "NOT READY"));
      for (Doctor.Finding f : r.findings()) {
        out.println("  " + pad(f.label() + ":") + (f.problem() ? "FIX: " : "") + f.text());
      }
      if (r.ready()) ready++;
      input |= r.inputError();
    }
    out.println(ready + " of " + reports.size() + " host(s) ready.");
    out.flush();
    if (input) return ErrorCode.INVALID_INPUT.exitCode();
    return ready == reports.size() ? 0 : 2;
  }

  private static String pad(String s) {
    return String.format("%-10s", s);
  }
}
