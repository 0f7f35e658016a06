package io.runbook.inventory;

import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ansible's INI inventory, read as its {@code ini} plugin (ansible-core 2.14) reads it. Lines
 * before the first section are hosts of {@code ungrouped}; {@code [g]} lists hosts, {@code
 * [g:children]} child groups and {@code [g:vars]} variables. A host line is split like a POSIX
 * shell line ({@code #} starts a comment, quotes group words and are removed) into the host key and
 * {@code key=value} pairs; a {@code [g:vars]} line is split at its first {@code =} and both sides
 * stripped. Every value, on host lines and in {@code :vars} alike, is then read as a Python literal
 * where it is one ({@code 1}, {@code True}, {@code [1, 2]}, {@code 'quoted'}) and is a string
 * otherwise ({@code yes}, {@code 0755}).
 */
final class IniInventory {
  private static final Pattern SECTION =
      Pattern.compile("^\\[([^:\\]\\s]+)(?::(\\w+))?\\]\\s*(?:#.*)?$");
  private static final Pattern GROUP_NAME = Pattern.compile("^([^:\\]\\s]+)\\s*(?:#.*)?$");

  private final InventoryData data;
  private final String file;
  private final Path baseDir;
  private final Problems problems;

  IniInventory(InventoryData data, String displayName, Path baseDir, Problems problems) {
    this.data = data;
    this.file = displayName;
    this.baseDir = baseDir;
    this.problems = problems;
  }

  /**
   * A section declared by a header, or one only referred to (by :vars or :children), with where.
   */
  private record Pending(String state, Location at, String parent) {}

  void parse(String text) {
    Set<String> known = new HashSet<>(data.groups.keySet());
    Map<String, Pending> pending = new LinkedHashMap<>();
    List<Pending> children = new ArrayList<>();
    String group = "ungrouped";
    String state = "hosts";
    data.group("ungrouped", new Location(file, 1, 1));
    String[] lines = text.split("\r?\n|\r", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].strip();
      Location at = new Location(file, n + 1, 1);
      if (line.isEmpty() || line.charAt(0) == '#' || line.charAt(0) == ';') continue;
      Matcher m = SECTION.matcher(line);
      if (m.matches()) {
        group = m.group(1);
        state = m.group(2) == null ? "hosts" : m.group(2);
        if (!List.of("hosts", "children", "vars").contains(state)) {
          problems.add(
              at,
              "section ["
                  + group
                  + ":"
                  + state
                  + "] has unknown type '"
                  + state
                  + "': use ["
                  + group
                  + "], ["
                  + group
                  + ":children] or ["
                  + group
                  + ":vars]");
          state = "skip";
          continue;
        }
        data.group(group, at);
        if (state.equals("vars")) pending.putIfAbsent(group, new Pending("vars", at, null));
        else known.add(group);
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        problems.add(
            at,
            "invalid section '"
                + line
                + "': write [group], [group:vars] or [group:children],"
                + " without spaces");
        state = "skip";
        continue;
      }
      switch (state) {
        case "hosts" -> hostLine(line, at, data.groups.get(group));
        case "vars" -> {
          int eq = line.indexOf('=');
          if (eq < 0) {
            problems.add(at, "expected key=value in [" + group + ":vars], got '" + line + "'");
            continue;
          }
          String key = line.substring(0, eq).strip();
          data.setVar(
              "group '" + group + "'",
              data.groups.get(group).vars,
              key,
              PythonLiteral.valueOf(line.substring(eq + 1).strip()),
              at,
              at,
              baseDir);
        }
        case "children" -> {
          Matcher g = GROUP_NAME.matcher(line);
          if (!g.matches()) {
            problems.add(
                at, "expected a group name in [" + group + ":children], got '" + line + "'");
            continue;
          }
          children.add(new Pending(g.group(1), at, group));
        }
        default -> {} // a broken section, reported above
      }
    }
    for (Pending c : children) {
      if (!known.contains(c.state())) {
        problems.add(
            c.at(),
            "["
                + c.parent()
                + ":children] includes group '"
                + c.state()
                + "', which this inventory never declares: add a ["
                + c.state()
                + "] section");
        continue;
      }
      data.addChild(data.groups.get(c.parent()), data.groups.get(c.state()), c.at());
    }
    for (Map.Entry<String, Pending> p : pending.entrySet()) {
      if (!known.contains(p.getKey())) {
        problems.add(
            p.getValue().at(),
            "["
                + p.getKey()
                + ":vars] is for a group this inventory never declares:"
                + " add a ["
                + p.getKey()
                + "] section, or list it under a [...:children]");
      }
    }
  }

  private void hostLine(String line, Location at, GroupDef group) {
    List<String> tokens;
    try {
      tokens = shlex(line);
    } catch (IllegalArgumentException e) {
      problems.add(at, "cannot read host line '" + line + "': " + e.getMessage());
      return;
    }
    if (tokens.isEmpty()) return;
    String key = tokens.get(0);
    if (key.endsWith(":")) {
      problems.add(
          at,
          "host '" + key + "' ends in ':', which is reserved for a port: write " + key + "PORT");
      return;
    }
    if (key.equals("---")) {
      problems.add(
          at,
          "'---' starts a YAML document: this file was read as INI; give a YAML inventory a .yaml name");
      return;
    }
    Map<String, Object> vars = new LinkedHashMap<>();
    for (String t : tokens.subList(1, tokens.size())) {
      int eq = t.indexOf('=');
      if (eq < 0) {
        problems.add(at, "expected key=value after host '" + key + "', got '" + t + "'");
        return;
      }
      vars.put(t.substring(0, eq), PythonLiteral.valueOf(t.substring(eq + 1)));
    }
    for (HostDef h : data.hostKey(key, at, group)) {
      vars.forEach((k, v) -> data.setVar("host '" + h.name + "'", h.vars, k, v, at, at, baseDir));
    }
  }

  /**
   * Python's {@code shlex.split(line, comments=True)}: POSIX quoting, {@code #} outside quotes ends
   * the line.
   */
  static List<String> shlex(String line) {
    return shlex(line, true);
  }

  /** As {@link #shlex(String)}; without {@code comments}, {@code #} is an ordinary character. */
  static List<String> shlex(String line, boolean comments) {
    List<String> out = new ArrayList<>();
    StringBuilder token = new StringBuilder();
    boolean inToken = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote == '\'') {
        if (c == '\'') quote = 0;
        else token.append(c);
      } else if (quote == '"') {
        if (c == '"') {
          quote = 0;
        } else if (c == '\\'
            && i + 1 < line.length()
            && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\\')) {
          token.append(line.charAt(++i));
        } else {
          token.append(c);
        }
      } else if (Character.isWhitespace(c)) {
        if (inToken) out.add(token.toString());
        token.setLength(0);
        inToken = false;
      } else if (c == '#' && comments) {
        break;
      } else if (c == '\'' || c == '"') {
        quote = c;
        inToken = true;
      } else if (c == '\\') {
        if (i + 1 >= line.length()) throw new IllegalArgumentException("no escaped character");
        token.append(line.charAt(++i));
        inToken = true;
      } else {
        token.append(c);
        inToken = true;
      }
    }
    if (quote != 0) throw new IllegalArgumentException("no closing quotation");
    if (inToken) out.add(token.toString());
    return out;
  }
}
