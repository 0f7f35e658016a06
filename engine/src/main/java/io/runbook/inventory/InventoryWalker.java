package io.runbook.inventory;

import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the YAML tree, depth first in file order, into one definition per group and per host,
 * merging every place a name appears (later values win). Parts of the wrong type are skipped: the
 * schema has reported them, and the rest is still checked so that one run shows every problem.
 */
final class InventoryWalker {
  /** Keys that are group sections, not groups: at the top level they are a misplaced group body. */
  static final List<String> SECTIONS = List.of("hosts", "vars", "children");

  /** A group, merged over every place it appears. */
  static final class GroupDef {
    final String name;
    final Location location;
    final Set<String> parents = new LinkedHashSet<>();
    final Map<String, Location> children = new LinkedHashMap<>(); // child → where first listed here
    final Set<String> hosts = new LinkedHashSet<>();
    final Map<String, Object> vars = new LinkedHashMap<>();

    GroupDef(String name, Location location) {
      this.name = name;
      this.location = location;
    }
  }

  /** A host, merged over every group that lists it. */
  static final class HostDef {
    final String name;
    final Location location;
    final Set<String> groups = new LinkedHashSet<>();
    final Map<String, Object> vars = new LinkedHashMap<>();

    HostDef(String name, Location location) {
      this.name = name;
      this.location = location;
    }
  }

  private final YamlDocument doc;
  private final Path baseDir;
  private final Problems problems;
  private final InventoryData data;
  final Map<String, GroupDef> groups;
  final Map<String, HostDef> hosts;

  /**
   * @param baseDir the inventory file's directory, against which relative key files resolve
   */
  InventoryWalker(YamlDocument doc, Path baseDir, Problems problems, InventoryData data) {
    this.doc = doc;
    this.baseDir = baseDir;
    this.problems = problems;
    this.data = data;
    this.groups = data.groups;
    this.hosts = data.hosts;
  }

  void walk(Map<?, ?> root) {
    for (Map.Entry<?, ?> e : root.entrySet()) {
      String name = String.valueOf(e.getKey());
      String at = YamlDocument.child("", name);
      if (SECTIONS.contains(name)) {
        problems.add(
            doc.keyLocation(at),
            "top-level '"
                + name
                + "' would be a group named '"
                + name
                + "': hosts, vars and children belong inside a group, e.g. under 'all:'");
        continue;
      }
      group(name, e.getValue(), at);
    }
  }

  private GroupDef group(String name, Object body, String at) {
    GroupDef g = data.group(name, doc.keyLocation(at));
    if (!(body instanceof Map<?, ?> sections)) return g;
    for (Map.Entry<?, ?> s : sections.entrySet()) {
      String sectionAt = YamlDocument.child(at, s.getKey());
      Object value = s.getValue();
      // As Ansible allows: 'hosts: web1' is 'hosts: {web1: }'.
      if (value instanceof String one) value = Collections.singletonMap(one, null);
      if (!(value instanceof Map<?, ?> entries)) continue;
      switch (String.valueOf(s.getKey())) {
        case "vars" -> vars("group '" + name + "'", entries, sectionAt, g.vars);
        case "hosts" -> hosts(g, entries, sectionAt);
        case "children" -> children(g, entries, sectionAt);
        default -> {} // reported by the schema
      }
    }
    return g;
  }

  private void children(GroupDef parent, Map<?, ?> entries, String at) {
    for (Map.Entry<?, ?> c : entries.entrySet()) {
      String childAt = YamlDocument.child(at, c.getKey());
      String name = String.valueOf(c.getKey());
      data.addChild(parent, group(name, c.getValue(), childAt), doc.keyLocation(childAt));
    }
  }

  private void hosts(GroupDef group, Map<?, ?> entries, String at) {
    for (Map.Entry<?, ?> h : entries.entrySet()) {
      String key = String.valueOf(h.getKey());
      String hostAt = YamlDocument.child(at, key);
      for (HostDef host : data.hostKey(key, doc.keyLocation(hostAt), group)) {
        if (h.getValue() instanceof Map<?, ?> vars)
          vars("host '" + host.name + "'", vars, hostAt, host.vars);
      }
    }
  }

  private void vars(String owner, Map<?, ?> entries, String at, Map<String, Object> into) {
    for (Map.Entry<?, ?> v : entries.entrySet()) {
      String name = String.valueOf(v.getKey());
      String varAt = YamlDocument.child(at, name);
      data.setVar(
          owner, into, name, v.getValue(), doc.keyLocation(varAt), doc.location(varAt), baseDir);
    }
  }
}
