package io.runbook.inventory;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.template.Templates;
import io.runbook.yaml.InputFiles;
import io.runbook.yaml.JsonSchemas;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.schema.Schema;

/**
 * Loads inventories as Ansible (ansible-core 2.14) reads them, from one or more sources ({@code -i}
 * given several times), each a file or a directory.
 *
 * <p><b>Sources.</b> A directory is read entry by entry in name order, skipping hidden entries,
 * {@code group_vars}, {@code host_vars}, {@code vars_plugins} and names ending in {@code .orig .ini
 * .cfg .retry .pyc .pyo .swp .bak ~ .rpm .md .txt .rst} (Ansible's {@code INVENTORY_IGNORE_EXTS});
 * its subdirectories are sources too. A file that is executable or starts with {@code #!} is an
 * executable inventory ({@link ScriptInventory}); a {@code .yaml}, {@code .yml}, {@code .json} or
 * extension-less file whose YAML is a mapping is a YAML inventory; anything else is INI ({@link
 * IniInventory}). Every source adds to the same groups and hosts.
 *
 * <p><b>YAML structure.</b> Every top-level key is a group; {@code all} holds every host. A group
 * has {@code hosts} (name → the host's variables, or empty), {@code vars} and {@code children}. A
 * host key may be a range ({@code web[01:10]}, {@code db-[a:c]}, {@code [1:9:2]}) and end in {@code
 * :PORT}, which sets {@code ansible_port}. Scalars are YAML 1.1 as Ansible reads them ({@link
 * AnsibleYaml}). A host in no group but {@code all} is in {@code ungrouped}; a group nobody lists
 * as a child is a child of {@code all}.
 *
 * <p><b>Variable precedence</b>, lowest to highest, as Ansible's VariableManager applies it:
 *
 * <ol>
 *   <li>{@code all}'s vars from the inventory sources;
 *   <li>the vars of every other group the host is in (directly or as a descendant) from the
 *       inventory sources, ordered by depth (the longest chain of children from {@code all}), then
 *       by {@code ansible_group_priority} (default 1; higher wins), then by name (the later name
 *       wins);
 *   <li>{@code group_vars/all} beside each inventory source, in {@code -i} order, then beside the
 *       runbook;
 *   <li>{@code group_vars/GROUP} beside each inventory source (source by source, groups in the
 *       order of 2), then beside the runbook;
 *   <li>the host's own vars from the inventory sources;
 *   <li>{@code host_vars/HOST} beside each inventory source, then beside the runbook.
 * </ol>
 *
 * "Beside an inventory source" is the directory of a file source or the directory source itself. A
 * later value replaces an earlier one whole (Ansible's default {@code hash_behaviour=replace}).
 * {@code ansible_ssh_private_key_file} is stored with {@code ~} expanded and, when relative,
 * resolved against the directory of the source that sets it.
 *
 * <p><b>Checks</b>, each reported at its {@code file:line:col} and all collected before failing:
 * variable names are identifiers; {@code ansible_port} and {@code ansible_become} have valid values
 * wherever they are set; no group contains itself; no host has a group's name; names contain no
 * pattern syntax; there is at least one host. Connections runbook does not drive (winrm,
 * network_cli, …) load; only targeting such a host is an error (see {@link Host#connection()}).
 */
public final class InventoryLoader {
  static final String SCHEMA = "/io/runbook/schema/inventory.json";
  private static final Pattern IGNORED =
      Pattern.compile(
          "^\\.|^host_vars$|^group_vars$|^vars_plugins$"
              + "|(\\.pyc|\\.pyo|\\.swp|\\.bak|~|\\.rpm|\\.md|\\.txt|\\.rst|\\.orig|\\.ini|\\.cfg|\\.retry)$");
  private static final List<String> YAML_EXTENSIONS = List.of(".yaml", ".yml", ".json");

  private InventoryLoader() {}

  /**
   * Loads and checks one inventory source, without vault passwords or a runbook directory; every
   * problem found is added to {@code problems}.
   *
   * @param displayName how messages name the file
   * @return the inventory, or empty when any problem was found
   */
  public static Optional<Inventory> load(Path file, String displayName, Problems problems) {
    return load(
        List.of(file),
        null,
        Vault.none(),
        p -> p.equals(file) ? displayName : p.toString(),
        problems);
  }

  /**
   * Loads and checks every source, in order, into one inventory.
   *
   * @param runbookDir the runbook's directory, whose {@code group_vars/} and {@code host_vars/}
   *     apply after the inventories' (Ansible's playbook directory); null for none
   * @param vault the passwords for {@code !vault} values and vault-encrypted files
   * @param display how messages name a file
   * @throws RunbookException ({@link ErrorCode#INVALID_INPUT}) when vaulted data cannot be
   *     decrypted
   */
  public static Optional<Inventory> load(
      List<Path> sources,
      Path runbookDir,
      Vault vault,
      Function<Path, String> display,
      Problems problems) {
    Problems found = new Problems();
    Set<String> secrets = new LinkedHashSet<>();
    AnsibleYaml yaml = new AnsibleYaml(vault, secrets);
    InventoryData data =
        new InventoryData(new Location(display.apply(sources.get(0)), 1, 1), found);
    for (Path source : sources) source(source, data, yaml, display, found);
    List<Path> varsDirs = new ArrayList<>();
    for (Path s : sources)
      varsDirs.add(Files.isDirectory(s) ? s.toAbsolutePath() : s.toAbsolutePath().getParent());
    Inventory inventory =
        build(
            data,
            varsDirs,
            runbookDir,
            new VarsFiles(yaml, display, found),
            String.join(", ", sources.stream().map(display).toList()),
            secrets,
            found);
    problems.addAll(found);
    return found.isEmpty() ? Optional.ofNullable(inventory) : Optional.empty();
  }

  private static void source(
      Path source,
      InventoryData data,
      AnsibleYaml yaml,
      Function<Path, String> display,
      Problems problems) {
    if (Files.isDirectory(source)) {
      List<Path> entries;
      try (Stream<Path> s = Files.list(source)) {
        entries = s.sorted().toList();
      } catch (IOException e) {
        problems.add(
            Location.of(display.apply(source)),
            "cannot list inventory directory: " + e.getMessage());
        return;
      }
      for (Path p : entries) {
        if (!IGNORED.matcher(p.getFileName().toString()).find())
          source(p, data, yaml, display, problems);
      }
      return;
    }
    String name = display.apply(source);
    if (ScriptInventory.isScript(source)) {
      new ScriptInventory(data, name, problems).parse(source);
      return;
    }
    // Read as every input is (size bound, regular files only, UTF-8 named at line and column).
    Optional<String> read = InputFiles.read(source, name, problems);
    if (read.isEmpty()) return;
    String text = read.get();
    String file = source.getFileName().toString();
    int dot = file.lastIndexOf('.');
    String ext = dot <= 0 ? "" : file.substring(dot);
    Path dir = source.toAbsolutePath().getParent();
    if (ext.equals(".toml")) {
      problems.add(
          Location.of(name),
          "TOML inventories are not supported: convert it with"
              + " ansible-inventory -i "
              + name
              + " --list --yaml > inventory.yaml");
      return;
    }
    Problems yamlProblems = new Problems();
    Optional<YamlDocument> doc =
        ext.isEmpty() || YAML_EXTENSIONS.contains(ext)
            ? yaml.parse(source, name, text, yamlProblems)
            : Optional.empty();
    if (doc.isPresent()
        && yamlProblems.isEmpty()
        && YAML_EXTENSIONS.contains(ext)
        && doc.get().root() != null
        && !(doc.get().root() instanceof Map<?, ?>)) {
      problems.add(
          doc.get().location(""),
          "a YAML inventory is a mapping of groups, e.g. all: {hosts: {web1: }}; this"
              + " file holds a "
              + (doc.get().root() instanceof List<?> ? "list" : "single value"));
      return;
    }
    if (doc.isPresent() && yamlProblems.isEmpty() && doc.get().root() instanceof Map<?, ?> root) {
      if (root.containsKey("plugin")) {
        problems.add(
            doc.get().keyLocation("/plugin"),
            "inventory plugin configurations (plugin: "
                + root.get("plugin")
                + ") are not read by runbook: export the inventory with ansible-inventory -i "
                + name
                + " --list --yaml > inventory.yaml, or use a YAML, INI or executable inventory");
        return;
      }
      yamlInventory(doc.get(), root, dir, data, problems);
      return;
    }
    Problems iniProblems = new Problems();
    new IniInventory(data, name, dir, iniProblems).parse(yaml.decryptFile(text, name));
    // A .yaml file whose YAML is broken is reported as YAML, unless it reads cleanly as INI.
    boolean yamlFile = YAML_EXTENSIONS.contains(ext);
    problems.addAll(
        yamlFile && !yamlProblems.isEmpty() && !iniProblems.isEmpty() ? yamlProblems : iniProblems);
  }

  private static void yamlInventory(
      YamlDocument doc, Map<?, ?> root, Path dir, InventoryData data, Problems problems) {
    // The walker explains a top-level hosts/vars/children itself; the schema would only add noise
    // about it.
    Map<Object, Object> groupsOnly = new LinkedHashMap<>(root);
    groupsOnly.keySet().removeAll(InventoryWalker.SECTIONS);
    JsonSchemas.validate(
        JsonSchemas.load(SCHEMA), groupsOnly, doc, "", null, problems, Templates::isTemplate);
    new InventoryWalker(doc, dir, problems, data).walk(root);
  }

  /**
   * The inventory source an {@code -i} argument names: the file or directory itself when it exists,
   * else {@code inventory/ARG.yaml} or {@code inventory/ARG.yml} under {@code cwd}.
   *
   * @throws RunbookException ({@link ErrorCode#INVALID_INPUT}) naming every path tried, when none
   *     exists
   */
  public static Path resolve(String arg, Path cwd) {
    Path direct = cwd.resolve(AnsibleVars.expandHome(arg).toString()).normalize();
    if (Files.isRegularFile(direct) || Files.isDirectory(direct)) return direct;
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
    // Something is there, but not a file or directory we can read: say what it is rather than "not
    // found".
    Optional<String> notAFile = Files.isDirectory(direct) ? Optional.empty() : notAFile(direct);
    if (notAFile.isPresent()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "inventory "
              + direct
              + " "
              + notAFile.get()
              + "; pass the path of an inventory file or directory with -i");
    }
    if (tried.size() == 1) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "inventory "
              + direct
              + " not found"
              + "; pass the path of an existing inventory file or directory with -i");
    }
    List<String> shown = tried.stream().map(Path::toString).toList();
    throw new RunbookException(
        ErrorCode.INVALID_INPUT,
        "inventory '"
            + arg
            + "' not found: there is no file "
            + String.join(", ", shown.subList(0, shown.size() - 1))
            + " or "
            + shown.get(shown.size() - 1)
            + "; pass the path of an inventory file or directory with -i, or create "
            + tried.get(1));
  }

  private static Optional<String> notAFile(Path p) {
    try {
      return InputFiles.notRegular(Files.readAttributes(p, BasicFileAttributes.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Inventory build(
      InventoryData data,
      List<Path> varsDirs,
      Path runbookDir,
      VarsFiles files,
      String source,
      Set<String> secrets,
      Problems problems) {
    GroupGraph graph = new GroupGraph(data.groups, data.hosts);
    graph.reportCycles(problems);
    Location first = data.groups.get("all").location;
    if (data.hosts.isEmpty() && problems.isEmpty()) problems.add(first, emptyMessage());

    List<Path> dirs = new ArrayList<>(varsDirs);
    if (runbookDir != null) dirs.add(runbookDir.toAbsolutePath());
    Map<String, Host> hosts = new LinkedHashMap<>();
    for (HostDef h : data.hosts.values()) {
      GroupDef sameName = data.groups.get(h.name);
      if (sameName != null) {
        problems.add(
            h.location,
            "host '"
                + h.name
                + "' has the same name as group '"
                + h.name
                + "'"
                + (sameName.location.line() > 0 ? " at line " + sameName.location.line() : "")
                + ": rename one of them, or a host pattern '"
                + h.name
                + "' would mean both");
      }
      List<String> order = graph.precedence(h.groups);
      List<String> others = order.stream().filter(g -> !g.equals("all")).toList();
      Map<String, Object> vars = new LinkedHashMap<>();
      for (String g : order) groupVars(data.groups.get(g), vars);
      for (Path d : dirs) vars.putAll(files.vars(d, "group_vars", "all"));
      for (Path d : dirs) for (String g : others) vars.putAll(files.vars(d, "group_vars", g));
      vars.putAll(h.vars);
      for (Path d : dirs) vars.putAll(files.vars(d, "host_vars", h.name));
      hosts.put(h.name, new Host(h.name, vars, order, h.location));
    }
    Map<String, Group> groups = new LinkedHashMap<>();
    for (GroupDef g : data.groups.values()) {
      groups.put(
          g.name,
          new Group(
              g.name,
              List.copyOf(g.parents),
              List.copyOf(g.children.keySet()),
              List.copyOf(g.hosts),
              g.vars,
              g.location));
    }
    return new Inventory(source, groups, hosts, secrets);
  }

  /**
   * The snakeyaml-engine schema to write inventories with: a string that YAML 1.1 would read as
   * something else ({@code yes}, {@code 0755}, {@code 1:30}) is quoted, so that it loads back as
   * the same string.
   */
  public static Schema writerSchema() {
    return AnsibleYaml.SCHEMA;
  }

  /**
   * A group's own vars, but ansible_group_priority: as in Ansible, that orders groups and is no
   * variable.
   */
  private static void groupVars(GroupDef g, Map<String, Object> into) {
    g.vars.forEach(
        (k, v) -> {
          if (!k.equals(GroupGraph.PRIORITY)) into.put(k, v);
        });
  }

  private static String emptyMessage() {
    return "the inventory has no hosts: list them under a group's hosts, e.g. all: {hosts: {web1: }}";
  }
}
