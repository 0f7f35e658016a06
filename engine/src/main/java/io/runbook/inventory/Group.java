package io.runbook.inventory;

import io.runbook.yaml.Location;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A group as the inventory defines it, merged over every place it appears.
 *
 * @param parents the groups listing this one under {@code children}; {@code all} for a group nobody
 *     lists
 * @param children direct child groups, in file order
 * @param hosts hosts listed directly under this group's {@code hosts} (not those of its children)
 * @param vars the group's own variables, not merged with its parents'
 * @param location where the group is first defined
 */
public record Group(
    String name,
    List<String> parents,
    List<String> children,
    List<String> hosts,
    Map<String, Object> vars,
    Location location) {
  public Group {
    Objects.requireNonNull(name, "name");
    parents = List.copyOf(parents);
    children = List.copyOf(children);
    hosts = List.copyOf(hosts);
    vars = Collections.unmodifiableMap(new LinkedHashMap<>(vars));
  }
}
