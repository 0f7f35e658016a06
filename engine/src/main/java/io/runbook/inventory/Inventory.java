package io.runbook.inventory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A loaded inventory. Both maps keep inventory order: {@code all} first, then each group and host
 * in the order the file first mentions it, so listings and selections read like the file.
 *
 * @param source the inventory's display name, used in messages
 * @param secretValues see {@link #secretValues()}
 */
public record Inventory(
    String source, Map<String, Group> groups, Map<String, Host> hosts, Set<String> secretValues) {
  public Inventory {
    Objects.requireNonNull(source, "source");
    groups = Collections.unmodifiableMap(new LinkedHashMap<>(groups));
    hosts = Collections.unmodifiableMap(new LinkedHashMap<>(hosts));
    secretValues = Collections.unmodifiableSet(new LinkedHashSet<>(secretValues));
  }

  public Inventory(String source, Map<String, Group> groups, Map<String, Host> hosts) {
    this(source, groups, hosts, Set.of());
  }

  /**
   * The plaintext of every vaulted value the inventory holds: each {@code !vault} value, and every
   * string value of each vault-encrypted file (group_vars/host_vars files, YAML inventories, {@code
   * -e @file}). These are secrets: whatever prints or records variables must mask them.
   */
  @Override
  public Set<String> secretValues() {
    return secretValues;
  }

  /** This inventory with {@code more} secrets too (those of {@code -e @vaulted.yml}, say). */
  public Inventory withSecrets(Set<String> more) {
    Set<String> all = new LinkedHashSet<>(secretValues);
    all.addAll(more);
    return new Inventory(source, groups, hosts, all);
  }

  /**
   * The hosts an Ansible host pattern selects, in inventory order and without duplicates; empty
   * when it selects none (ask {@link #patternProblems} why). A pattern is terms separated by {@code
   * ,} (or {@code :}): {@code all} or {@code *}, a group, a host, a glob ({@code web*}, {@code
   * db?}) or a {@code ~regex}; {@code &term} keeps only hosts also in the term, {@code !term}
   * removes the term's hosts. A term other than a regex may end in a subscript, as in Ansible:
   * {@code web[0]}, {@code web[-1]}, {@code web[0:2]} (inclusive), {@code web[10:]}; it counts the
   * group's own hosts, then its children's, breadth first (an index past the end selects nothing).
   * Plain terms are united first, then intersections, then exclusions, so the order of terms does
   * not matter; a pattern of only exclusions starts from {@code all}. An empty pattern, or one with
   * an invalid term, selects nothing.
   */
  public List<Host> select(String pattern) {
    return HostPattern.select(this, pattern);
  }

  /**
   * Why {@code pattern} is wrong or selects no host, one message per reason (a term naming no group
   * or host, with a did-you-mean; an invalid regex; a pattern that selects nothing); empty when it
   * selects hosts. The messages name no location: the caller knows where the pattern came from.
   */
  public List<String> patternProblems(String pattern) {
    return HostPattern.problems(this, pattern);
  }

  /** Every host of {@code group}, including its child groups' hosts, in inventory order. */
  public List<Host> hostsOf(String group) {
    return hosts.values().stream().filter(h -> h.groups().contains(group)).toList();
  }
}
