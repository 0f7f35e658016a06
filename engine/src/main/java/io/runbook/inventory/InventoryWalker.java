package io.runbook.inventory;

import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML tree, depth first in file order, into one definition per group and per host, merging
 * every place a name appears (later values win). Parts of the wrong type are skipped: the schema has
 * reported them, and the rest is still checked so that one run shows every problem.
 */
final class InventoryWalker {
  /** Keys that are group sections, not groups: at the top level they are a misplaced group body. */
  static final List<String> SECTIONS = List.of("hosts", "vars", "children");
  private static final Pattern PORT_SUFFIX = Pattern.compile("(.+):([0-9]{1,9})");
  // Characters that host patterns give a meaning to; a name containing one could never be selected alone.
  private static final Pattern PATTERN_CHARS = Pattern.compile("[\\s,:!&*?\\[\\]]|^~");

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
  final Map<String, GroupDef> groups = new LinkedHashMap<>();
  final Map<String, HostDef> hosts = new LinkedHashMap<>();

  /** @param baseDir the inventory file's directory, against which relative key files resolve */
  InventoryWalker(YamlDocument doc, Path baseDir, Problems problems) {
    this.doc = doc;
    this.baseDir = baseDir;
    this.problems = problems;
  }

  void walk(Map<?, ?> root) {
    groups.put("all", new GroupDef("all", doc.keyLocation("/all")));
    for (Map.Entry<?, ?> e : root.entrySet()) {
      String name = String.valueOf(e.getKey());
      String at = YamlDocument.child("", name);
      if (SECTIONS.contains(name)) {
        problems.add(doc.keyLocation(at), "top-level '" + name + "' would be a group named '" + name
            + "': hosts, vars and children belong inside a group, e.g. under 'all:'");
        continue;
      }
      group(name, e.getValue(), at);
    }
  }

  private GroupDef group(String name, Object body, String at) {
    GroupDef g = groups.get(name);
    if (g == null) {
      g = new GroupDef(name, doc.keyLocation(at));
      groups.put(name, g);
      checkName("group", name, g.location);
    }
    if (!(body instanceof Map<?, ?> sections)) return g;
    for (Map.Entry<?, ?> s : sections.entrySet()) {
      String sectionAt = YamlDocument.child(at, s.getKey());
      if (!(s.getValue() instanceof Map<?, ?> entries)) continue;
      switch (String.valueOf(s.getKey())) {
        case "vars" -> vars("group '" + name + "'", entries, sectionAt, g.vars);
        case "hosts" -> hosts(g, entries, sectionAt);
        case "children" -> children(g, entries, sectionAt);
        default -> { } // reported by the schema
      }
    }
    return g;
  }

  private void children(GroupDef parent, Map<?, ?> entries, String at) {
    for (Map.Entry<?, ?> c : entries.entrySet()) {
      String childAt = YamlDocument.child(at, c.getKey());
      String name = String.valueOf(c.getKey());
      parent.children.putIfAbsent(name, doc.keyLocation(childAt));
      group(name, c.getValue(), childAt).parents.add(parent.name);
    }
  }

  private void hosts(GroupDef group, Map<?, ?> entries, String at) {
    for (Map.Entry<?, ?> h : entries.entrySet()) {
      String key = String.valueOf(h.getKey());
      String hostAt = YamlDocument.child(at, key);
      Location keyAt = doc.keyLocation(hostAt);
      Long port = null;
      Matcher m = PORT_SUFFIX.matcher(key);
      if (m.matches() && balanced(m.group(1))) {
        key = m.group(1);
        port = Long.valueOf(m.group(2));
      }
      List<String> names;
      try {
        names = HostRanges.expand(key);
      } catch (IllegalArgumentException e) {
        problems.add(keyAt, "host '" + key + "' " + e.getMessage());
        continue;
      }
      for (String name : names) {
        HostDef host = hosts.get(name);
        if (host == null) {
          host = new HostDef(name, keyAt);
          hosts.put(name, host);
          checkName("host", name, keyAt);
        }
        host.groups.add(group.name);
        group.hosts.add(name);
        if (port != null) {
          AnsibleVars.check("host '" + name + "'", AnsibleVars.PORT, port, keyAt, keyAt, problems);
          host.vars.put(AnsibleVars.PORT, port);
        }
        if (h.getValue() instanceof Map<?, ?> vars) vars("host '" + name + "'", vars, hostAt, host.vars);
      }
    }
  }

  private void vars(String owner, Map<?, ?> entries, String at, Map<String, Object> into) {
    for (Map.Entry<?, ?> v : entries.entrySet()) {
      String name = String.valueOf(v.getKey());
      String varAt = YamlDocument.child(at, name);
      Object value = v.getValue();
      AnsibleVars.check(owner, name, value, doc.keyLocation(varAt), doc.location(varAt), problems);
      if (AnsibleVars.isKeyFile(name) && value instanceof String path && !path.isBlank()) {
        // Resolved now, while the inventory's directory is known: the host only carries the merged value.
        value = baseDir.resolve(AnsibleVars.expandHome(path)).normalize().toString();
      }
      into.put(name, value);
    }
  }

  private void checkName(String kind, String name, Location at) {
    if (name.isEmpty() || PATTERN_CHARS.matcher(name).find()) {
      problems.add(at, kind + " name '" + name + "' cannot be selected by a host pattern: leave out spaces and"
          + " , : ! & * ? [ ] (and a leading ~), e.g. '" + AnsibleVars.identifierFor(name) + "'");
    }
  }

  private static boolean balanced(String s) {
    return s.chars().filter(c -> c == '[').count() == s.chars().filter(c -> c == ']').count();
  }
}
