package io.runbook.inventory;

import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The group hierarchy: Ansible's implicit memberships, cycles, and the order group variables apply
 * in.
 */
final class GroupGraph {
  static final String PRIORITY = "ansible_group_priority";
  private static final int ON_PATH = 1;
  private static final int DONE = 2;

  private final Map<String, GroupDef> groups;
  private final Map<String, Integer> depths = new HashMap<>();

  /**
   * Adds the implicit memberships to {@code groups} and {@code hosts} (see {@link #addImplicit}).
   */
  GroupGraph(Map<String, GroupDef> groups, Map<String, HostDef> hosts) {
    this.groups = groups;
    addImplicit(hosts);
  }

  /**
   * As Ansible does: a host in no group but {@code all} is also in {@code ungrouped} (which always
   * exists), and a group that no group lists as a child is a child of {@code all}.
   */
  private void addImplicit(Map<String, HostDef> hosts) {
    GroupDef all = groups.get("all");
    GroupDef ungrouped = groups.computeIfAbsent("ungrouped", n -> new GroupDef(n, all.location));
    for (HostDef h : hosts.values()) {
      if (h.groups.stream().allMatch(g -> g.equals("all") || g.equals(ungrouped.name))) {
        h.groups.add(ungrouped.name);
        ungrouped.hosts.add(h.name);
      } else if (h.groups.remove(ungrouped.name)) {
        // An INI file lists hosts before its first section in ungrouped; a group found later wins.
        ungrouped.hosts.remove(h.name);
      }
    }
    for (GroupDef g : groups.values()) {
      if (g != all && g.parents.isEmpty()) {
        g.parents.add(all.name);
        all.children.putIfAbsent(g.name, g.location);
      }
    }
  }

  /** One problem per cycle, at the {@code children} entry that closes it. */
  void reportCycles(Problems problems) {
    Map<String, Integer> state = new HashMap<>();
    Deque<String> path = new ArrayDeque<>();
    for (String g : groups.keySet()) visit(g, state, path, problems);
  }

  private void visit(
      String group, Map<String, Integer> state, Deque<String> path, Problems problems) {
    if (state.containsKey(group)) return;
    state.put(group, ON_PATH);
    path.addLast(group);
    for (Map.Entry<String, Location> child : groups.get(group).children.entrySet()) {
      String c = child.getKey();
      Integer s = state.get(c);
      if (s == null) {
        visit(c, state, path, problems);
      } else if (s == ON_PATH) {
        List<String> cycle = new ArrayList<>(path);
        cycle = cycle.subList(cycle.indexOf(c), cycle.size());
        problems.add(
            child.getValue(),
            "group '"
                + c
                + "' contains itself: "
                + String.join(" → ", cycle)
                + " → "
                + c
                + "; remove '"
                + c
                + "' from the children of '"
                + group
                + "'");
      }
    }
    path.removeLast();
    state.put(group, DONE);
  }

  /**
   * The groups a host belongs to, directly or through ancestors, in the order their variables
   * apply: by depth (the longest chain of children from {@code all}), then by {@code
   * ansible_group_priority}, then by name, as Ansible's sort_groups orders them.
   */
  List<String> precedence(Set<String> direct) {
    Set<String> closure = new HashSet<>();
    closure.add("all");
    Deque<String> todo = new ArrayDeque<>(direct);
    while (!todo.isEmpty()) {
      String g = todo.pop();
      if (closure.add(g)) todo.addAll(groups.get(g).parents);
    }
    List<String> ordered = new ArrayList<>(closure);
    ordered.sort(
        Comparator.comparingInt((String g) -> depth(g, new HashSet<>()))
            .thenComparingLong(this::priority)
            .thenComparing(g -> g));
    return ordered;
  }

  /**
   * {@code ansible_group_priority} as the inventory source sets it; 1 when unset or not a number.
   */
  long priority(String group) {
    Object v = groups.get(group).vars.get(PRIORITY);
    if (v instanceof Number n) return n.longValue();
    if (v instanceof String s && s.strip().matches("[-+]?[0-9]{1,18}"))
      return Long.parseLong(s.strip());
    return 1;
  }

  /** Longest distance from {@code all}; a cycle (already reported) is cut where it is met. */
  int depth(String group, Set<String> visiting) {
    if (group.equals("all")) return 0;
    Integer known = depths.get(group);
    if (known != null) return known;
    if (!visiting.add(group)) return 0;
    int d = 0;
    for (String p : groups.get(group).parents) d = Math.max(d, depth(p, visiting) + 1);
    visiting.remove(group);
    depths.put(group, d);
    return d;
  }
}
