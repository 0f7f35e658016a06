package io.runbook.inventory;

import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The groups and hosts every inventory source adds to, in the order they are first mentioned, as
 * Ansible's InventoryData: a second source adds to the groups and hosts of the first.
 */
final class InventoryData {
  private static final Pattern PORT_SUFFIX = Pattern.compile("(.+):([0-9]{1,9})");
  // Characters that host patterns give a meaning to; a name containing one could never be selected
  // alone.
  private static final Pattern PATTERN_CHARS = Pattern.compile("[\\s,:!&*?\\[\\]]|^~");

  final Map<String, GroupDef> groups = new LinkedHashMap<>();
  final Map<String, HostDef> hosts = new LinkedHashMap<>();
  private final Problems problems;

  InventoryData(Location allAt, Problems problems) {
    this.problems = problems;
    groups.put("all", new GroupDef("all", allAt));
  }

  GroupDef group(String name, Location at) {
    GroupDef g = groups.get(name);
    if (g == null) {
      g = new GroupDef(name, at);
      groups.put(name, g);
      checkName("group", name, at);
    }
    return g;
  }

  void addChild(GroupDef parent, GroupDef child, Location at) {
    parent.children.putIfAbsent(child.name, at);
    child.parents.add(parent.name);
  }

  HostDef host(String name, Location at) {
    HostDef host = hosts.get(name);
    if (host == null) {
      host = new HostDef(name, at);
      hosts.put(name, host);
      checkName("host", name, at);
    }
    return host;
  }

  void addHost(GroupDef group, HostDef host) {
    host.groups.add(group.name);
    group.hosts.add(host.name);
  }

  /**
   * The hosts a host key of a YAML or INI inventory stands for, added to {@code group}: the key may
   * be a range ({@code web[01:10]}) and end in {@code :PORT}, which sets {@code ansible_port}.
   * Empty (with a problem) when the range is invalid.
   */
  List<HostDef> hostKey(String key, Location at, GroupDef group) {
    Long port = null;
    Matcher m = PORT_SUFFIX.matcher(key);
    // An IPv6 address (more than one ':' outside brackets) has no port unless it is bracketed.
    if (m.matches()
        && balanced(m.group(1))
        && (!outsideBrackets(m.group(1)).contains(":") || m.group(1).startsWith("["))) {
      key = m.group(1);
      if (key.startsWith("[") && key.endsWith("]") && key.contains(":"))
        key = key.substring(1, key.length() - 1);
      port = Long.valueOf(m.group(2));
    }
    List<String> names;
    try {
      names = HostRanges.expand(key);
    } catch (IllegalArgumentException e) {
      problems.add(at, "host '" + key + "' " + e.getMessage());
      return List.of();
    }
    List<HostDef> out = new ArrayList<>();
    for (String name : names) {
      HostDef host = host(name, at);
      addHost(group, host);
      if (port != null) {
        AnsibleVars.check("host '" + name + "'", AnsibleVars.PORT, port, at, at, problems);
        host.vars.put(AnsibleVars.PORT, port);
      }
      out.add(host);
    }
    return out;
  }

  /**
   * Checks and stores one variable; a key file path is resolved now, while the source's directory
   * is known.
   */
  void setVar(
      String owner,
      Map<String, Object> into,
      String name,
      Object value,
      Location keyAt,
      Location valueAt,
      Path baseDir) {
    AnsibleVars.check(owner, name, value, keyAt, valueAt, problems);
    if (AnsibleVars.isKeyFile(name) && value instanceof String path && !path.isBlank()) {
      value = baseDir.resolve(AnsibleVars.expandHome(path)).normalize().toString();
    }
    into.put(name, value);
  }

  private void checkName(String kind, String name, Location at) {
    if (name.isEmpty() || PATTERN_CHARS.matcher(name).find()) {
      problems.add(
          at,
          kind
              + " name '"
              + name
              + "' cannot be selected by a host pattern: leave out spaces and"
              + " , : ! & * ? [ ] (and a leading ~), e.g. '"
              + AnsibleVars.identifierFor(name)
              + "'");
    }
  }

  private static String outsideBrackets(String s) {
    return s.replaceAll("\\[[^\\]]*\\]", "");
  }

  private static boolean balanced(String s) {
    return s.chars().filter(c -> c == '[').count() == s.chars().filter(c -> c == ']').count();
  }
}
