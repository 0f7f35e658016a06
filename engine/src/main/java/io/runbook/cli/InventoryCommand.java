package io.runbook.cli;

import io.runbook.inventory.Group;
import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.Vault;
import io.runbook.journal.EventJson;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "inventory",
    mixinStandardHelpOptions = true,
    description =
        "List the inventory's groups and hosts with each host's merged variables, resolved as "
            + "Ansible does (group vars by depth, group_vars/, host vars, host_vars/); vaulted values are masked.")
final class InventoryCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"-i", "--inventory"},
      required = true,
      paramLabel = "INVENTORY",
      description =
          "Inventory file or directory (YAML, INI or executable), or NAME for inventory/NAME.yaml. "
              + "Repeat to read several, in order.")
  List<String> inventory;

  @Option(
      names = "--playbook-dir",
      paramLabel = "DIR",
      description =
          "A runbook's directory, whose group_vars/ and host_vars/ apply too (as ansible-inventory's option).")
  Path playbookDir;

  @Option(
      names = "--vault-password-file",
      paramLabel = "FILE",
      description = "Ansible Vault password file. Repeatable.")
  List<String> vaultPasswordFiles;

  @Option(
      names = "--vault-id",
      paramLabel = "[LABEL@]FILE",
      description = "Vault password file with a label. Repeatable.")
  List<String> vaultIds;

  @Option(
      names = {"-l", "--limit"},
      paramLabel = "PATTERN",
      description = "Only hosts matching this pattern.")
  String limit;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Problems problems = new Problems();
    Inventory inv =
        Inputs.inventory(
            inventory,
            playbookDir,
            Vault.fromOptions(vaultPasswordFiles, vaultIds, System.getenv()),
            problems);
    problems.throwIfAny();
    if (limit != null)
      inv.patternProblems(limit).forEach(w -> problems.add(Location.of("--limit"), w));
    problems.throwIfAny();
    List<Host> hosts = inv.select(limit == null ? "all" : limit);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      Map<String, Object> groups = new LinkedHashMap<>();
      inv.groups()
          .values()
          .forEach(g -> groups.put(g.name(), Map.of("children", g.children(), "hosts", g.hosts())));
      Map<String, Object> hv = new LinkedHashMap<>();
      hosts.forEach(h -> hv.put(h.name(), mask(h.vars(), inv.secretValues())));
      doc.put("groups", groups);
      doc.put("hosts", hv);
      out.println(EventJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
      return 0;
    }
    out.println("groups:");
    for (Group g : inv.groups().values()) {
      out.println(
          "  "
              + g.name()
              + (g.children().isEmpty() ? "" : "  children: " + String.join(", ", g.children()))
              + (g.hosts().isEmpty() ? "" : "  hosts: " + String.join(", ", g.hosts())));
    }
    out.println("hosts:");
    for (Host h : hosts) {
      out.println("  " + h.name() + "  (groups: " + String.join(", ", h.groups()) + ")");
      mask(h.vars(), inv.secretValues()).forEach((k, v) -> out.println("      " + k + ": " + v));
    }
    return 0;
  }

  /** Vaulted values never reach the terminal. */
  @SuppressWarnings("unchecked")
  static <T> T mask(T value, Set<String> secrets) {
    if (value instanceof String s && secrets.contains(s)) return (T) "********";
    if (value instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k, mask(v, secrets)));
      return (T) out;
    }
    if (value instanceof List<?> l) return (T) l.stream().map(v -> mask(v, secrets)).toList();
    return value;
  }
}
