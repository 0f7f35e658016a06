package io.runbook.inventory;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.yaml.InputFiles;
import io.runbook.yaml.JsonSchemas;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import io.runbook.yaml.YamlLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads an inventory in Ansible's YAML inventory format, so existing Ansible inventories work.
 *
 * <p><b>Structure.</b> Every top-level key is a group; {@code all} holds every host, and the other
 * top-level groups are its children. A group has {@code hosts} (name → the host's variables, or empty),
 * {@code vars} and {@code children} (name → a group). A host may be listed in several groups and a group
 * under several parents; all places are merged. As in Ansible, a host listed in no group but {@code all}
 * is also in {@code ungrouped}, and a host key may be a range ({@code web[01:10]}) or end in
 * {@code :PORT}, which sets {@code ansible_port}.
 *
 * <p><b>Variable precedence</b>, lowest to highest, as Ansible applies it:
 * <ol>
 *   <li>{@code all}'s vars;
 *   <li>the vars of every other group the host is in, directly or as a descendant, ordered by depth, the
 *       <em>longest</em> chain of {@code children} from {@code all} (a top-level group has depth 1), so a
 *       child group overrides its parents; groups at the same depth apply in alphabetical order of name,
 *       so the later name wins;
 *   <li>the host's own vars.
 * </ol>
 * A group or host defined in several places merges its variables in file order, the later definition
 * winning. A later value replaces an earlier one whole: maps are not merged (Ansible's default
 * {@code hash_behaviour=replace}). {@code ansible_ssh_private_key_file} is stored with {@code ~} expanded
 * and, when relative, resolved against the inventory file's directory.
 *
 * <p><b>Checks</b>, beyond the schema ({@code inventory.json}), each reported at its {@code file:line:col}
 * and all collected before failing: variable names are identifiers; {@code ansible_port},
 * {@code ansible_connection}, {@code ansible_become} and the string variables have valid values wherever
 * they are set; no group contains itself; no host has a group's name; names contain no pattern syntax;
 * the inventory has at least one host.
 */
public final class InventoryLoader {
  static final String SCHEMA = "/io/runbook/schema/inventory.json";

  private InventoryLoader() {}

  /**
   * Loads and checks {@code file}; every problem found is added to {@code problems}.
   *
   * @param displayName how messages name the file
   * @return the inventory, or empty when any problem was found
   */
  public static Optional<Inventory> load(Path file, String displayName, Problems problems) {
    Problems found = new Problems();
    Inventory inventory = YamlLoader.load(file, displayName, found)
        .map(doc -> build(doc, file, found))
        .orElse(null);
    problems.addAll(found);
    return found.isEmpty() ? Optional.ofNullable(inventory) : Optional.empty();
  }

  /**
   * The inventory file an {@code -i} argument names: the file itself when it exists, else
   * {@code inventory/ARG.yaml} or {@code inventory/ARG.yml} under {@code cwd}.
   *
   * @throws RunbookException ({@link ErrorCode#INVALID_INPUT}) naming every path tried, when none exists
   */
  public static Path resolve(String arg, Path cwd) {
    Path direct = cwd.resolve(arg).normalize();
    if (Files.isRegularFile(direct)) return direct;
    List<Path> tried = new ArrayList<>(List.of(direct));
    if (!Path.of(arg).isAbsolute()) {
      Path dir = cwd.resolve("inventory");
      boolean hasExtension = arg.endsWith(".yaml") || arg.endsWith(".yml");
      for (String candidate : hasExtension ? List.of(arg) : List.of(arg + ".yaml", arg + ".yml")) {
        Path p = dir.resolve(candidate).normalize();
        if (Files.isRegularFile(p)) return p;
        tried.add(p);
      }
    }
    // Something is there, but not a file we can read: say what it is rather than "not found".
    Optional<String> notAFile = notAFile(direct);
    if (notAFile.isPresent()) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "inventory " + direct + " " + notAFile.get()
          + "; pass the path of an inventory file with -i");
    }
    if (tried.size() == 1) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "inventory file " + direct + " not found"
          + "; pass the path of an existing inventory file with -i");
    }
    List<String> shown = tried.stream().map(Path::toString).toList();
    throw new RunbookException(ErrorCode.INVALID_INPUT, "inventory '" + arg + "' not found: there is no file "
        + String.join(", ", shown.subList(0, shown.size() - 1)) + " or " + shown.get(shown.size() - 1)
        + "; pass the path of an inventory file with -i, or create " + tried.get(1));
  }

  private static Optional<String> notAFile(Path p) {
    try {
      return InputFiles.notRegular(Files.readAttributes(p, BasicFileAttributes.class));
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }

  private static Inventory build(YamlDocument doc, Path file, Problems problems) {
    if (!(doc.root() instanceof Map<?, ?> root)) {
      // An empty file has no node to point at; its first line is where the hosts should go.
      if (doc.root() == null) problems.add(new Location(doc.displayName(), 1, 1), emptyMessage());
      else JsonSchemas.validate(JsonSchemas.load(SCHEMA), doc.root(), doc, "", null, problems);
      return null;
    }
    // The walker explains a top-level hosts/vars/children itself; the schema would only add noise about it.
    Map<Object, Object> groupsOnly = new LinkedHashMap<>(root);
    groupsOnly.keySet().removeAll(InventoryWalker.SECTIONS);
    JsonSchemas.validate(JsonSchemas.load(SCHEMA), groupsOnly, doc, "", null, problems);

    Path dir = file.toAbsolutePath().getParent();
    InventoryWalker walker = new InventoryWalker(doc, dir, problems);
    walker.walk(root);
    GroupGraph graph = new GroupGraph(walker.groups, walker.hosts);
    graph.reportCycles(problems);
    if (walker.hosts.isEmpty()) problems.add(doc.location(""), emptyMessage());

    Map<String, Host> hosts = new LinkedHashMap<>();
    for (HostDef h : walker.hosts.values()) {
      GroupDef sameName = walker.groups.get(h.name);
      if (sameName != null) {
        problems.add(h.location, "host '" + h.name + "' has the same name as group '" + h.name + "'"
            + (sameName.location.line() > 0 ? " at line " + sameName.location.line() : "")
            + ": rename one of them, or a host pattern '" + h.name + "' would mean both");
      }
      hosts.put(h.name, host(h, graph, walker.groups));
    }
    Map<String, Group> groups = new LinkedHashMap<>();
    for (GroupDef g : walker.groups.values()) {
      groups.put(g.name, new Group(g.name, List.copyOf(g.parents), List.copyOf(g.children.keySet()),
          List.copyOf(g.hosts), g.vars, g.location));
    }
    return new Inventory(doc.displayName(), groups, hosts);
  }

  private static Host host(HostDef h, GroupGraph graph, Map<String, GroupDef> groups) {
    List<String> order = graph.precedence(h.groups);
    Map<String, Object> vars = new LinkedHashMap<>();
    for (String g : order) vars.putAll(groups.get(g).vars);
    vars.putAll(h.vars);
    return new Host(h.name, vars, order, h.location);
  }

  private static String emptyMessage() {
    return "the inventory has no hosts: list them under a group's hosts, e.g. all: {hosts: {web1: }}";
  }
}
