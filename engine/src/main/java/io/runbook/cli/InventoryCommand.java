package io.runbook.cli;

import io.runbook.inventory.Group;
import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.journal.EventJson;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "inventory", mixinStandardHelpOptions = true,
    description = "List the inventory's groups and hosts with each host's merged variables "
        + "(all < parent group < child group < host).")
final class InventoryCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = {"-i", "--inventory"}, required = true, paramLabel = "INVENTORY",
      description = "Inventory file, or NAME for inventory/NAME.yaml.")
  String inventory;

  @Option(names = {"-l", "--limit"}, paramLabel = "PATTERN", description = "Only hosts matching this pattern.")
  String limit;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Problems problems = new Problems();
    Inventory inv = Inputs.inventory(inventory, problems);
    problems.throwIfAny();
    if (limit != null) inv.patternProblems(limit).forEach(w -> problems.add(Location.of("--limit"), w));
    problems.throwIfAny();
    List<Host> hosts = inv.select(limit == null ? "all" : limit);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      Map<String, Object> groups = new LinkedHashMap<>();
      inv.groups().values().forEach(g -> groups.put(g.name(), Map.of("children", g.children(), "hosts", g.hosts())));
      Map<String, Object> hv = new LinkedHashMap<>();
      hosts.forEach(h -> hv.put(h.name(), h.vars()));
      doc.put("groups", groups);
      doc.put("hosts", hv);
      out.println(EventJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
      return 0;
    }
    out.println("groups:");
    for (Group g : inv.groups().values()) {
      out.println("  " + g.name() + (g.children().isEmpty() ? "" : "  children: " + String.join(", ", g.children()))
          + (g.hosts().isEmpty() ? "" : "  hosts: " + String.join(", ", g.hosts())));
    }
    out.println("hosts:");
    for (Host h : hosts) {
      out.println("  " + h.name() + "  (groups: " + String.join(", ", h.groups()) + ")");
      h.vars().forEach((k, v) -> out.println("      " + k + ": " + v));
    }
    return 0;
  }
}
