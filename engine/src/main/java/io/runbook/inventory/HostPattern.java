package io.runbook.inventory;

import io.runbook.yaml.Suggestions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Ansible host patterns; see {@link Inventory#select}. */
final class HostPattern {
  // Without commas, ':' separates terms, except inside brackets, as in Ansible's
  // split_host_pattern.
  private static final Pattern COLON_TERM = Pattern.compile("(?:[^\\s:\\[\\]]|\\[[^\\]]*\\])+");

  private HostPattern() {}

  // A term ending in [i], [i:j], [i:] or the removed [i-j], as Ansible's PATTERN_WITH_SUBSCRIPT.
  private static final Pattern SUBSCRIPT =
      Pattern.compile("^(.+)\\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\\]$");

  /**
   * {@code [start]} when {@code end} is null, else {@code [start:end]} inclusive; -1 as end means
   * to the last.
   */
  private record Subscript(int start, Integer end) {
    List<Host> apply(List<Host> hosts) {
      if (hosts.isEmpty()) return hosts;
      // As Ansible: an end of 0 is falsy there, so [i:0] is [i].
      if (end != null && end != 0) {
        int to = end == -1 ? hosts.size() - 1 : end;
        int from = Math.min(start, hosts.size());
        return hosts.subList(from, Math.max(from, Math.min(to + 1, hosts.size())));
      }
      int i = start < 0 ? hosts.size() + start : start;
      if (i < 0 || i >= hosts.size()) return null;
      return List.of(hosts.get(i));
    }

    @Override
    public String toString() {
      return "[" + start + (end == null ? "" : ":" + (end == -1 ? "" : end)) + "]";
    }
  }

  /**
   * One term of a pattern: {@code op} is '&', '!' or ' ' (union); {@code matcher} is null when
   * invalid.
   */
  private record Term(
      char op, String text, String name, Predicate<String> matcher, String problem, Subscript sub) {
    Term(char op, String text, String name, Predicate<String> matcher, String problem) {
      this(op, text, name, matcher, problem, null);
    }

    static Term parse(String text, String pattern) {
      char op = text.charAt(0) == '&' || text.charAt(0) == '!' ? text.charAt(0) : ' ';
      String name = op == ' ' ? text : text.substring(1);
      Subscript sub = null;
      Matcher m = name.startsWith("~") ? null : SUBSCRIPT.matcher(name);
      if (m != null && m.matches()) {
        name = m.group(1);
        sub =
            m.group(2) != null
                ? new Subscript(Integer.parseInt(m.group(2)), null)
                : new Subscript(
                    Integer.parseInt(m.group(3)),
                    m.group(5).isEmpty() ? -1 : Integer.parseInt(m.group(5)));
      }
      if (name.isEmpty() || name.equals("~")) {
        String o = op == ' ' ? "" : String.valueOf(op);
        return new Term(
            op,
            text,
            name,
            null,
            "'"
                + text
                + "' in host pattern '"
                + pattern
                + "' names nothing: write "
                + (name.isEmpty() ? o + "GROUP or " + o + "HOST" : o + "~REGEX"));
      }
      try {
        return new Term(op, text, name, HostPattern.matcher(name), null, sub);
      } catch (PatternSyntaxException e) {
        return new Term(
            op,
            text,
            name,
            null,
            "'"
                + name
                + "' in host pattern '"
                + pattern
                + "' is not a valid regular expression: "
                + e.getDescription(),
            sub);
      }
    }
  }

  static List<Host> select(Inventory inventory, String pattern) {
    List<Term> terms = parse(pattern);
    // A pattern with a mistake selects nothing rather than guessing: an empty or broken pattern
    // must
    // never fall back to every host, as a lone exclusion does.
    if (terms.isEmpty() || terms.stream().anyMatch(t -> t.matcher() == null)) return List.of();
    Set<String> selected = new HashSet<>();
    if (terms.stream().noneMatch(t -> t.op() == ' ')) selected.addAll(inventory.hosts().keySet());
    for (Term t : terms) if (match(inventory, t) == null) return List.of(); // an index past the end
    for (Term t : terms) if (t.op() == ' ') selected.addAll(match(inventory, t));
    for (Term t : terms) if (t.op() == '&') selected.retainAll(match(inventory, t));
    for (Term t : terms) if (t.op() == '!') selected.removeAll(match(inventory, t));
    return inventory.hosts().values().stream().filter(h -> selected.contains(h.name())).toList();
  }

  static List<String> problems(Inventory inventory, String pattern) {
    List<Term> terms = parse(pattern);
    if (terms.isEmpty()) return List.of("host pattern is empty: use 'all', a group or a host name");
    List<String> problems = new ArrayList<>();
    for (Term t : terms) {
      if (t.problem() != null) {
        problems.add(t.problem());
      } else if (match(inventory, t) == null) {
        problems.add(
            "'"
                + t.text()
                + "' in host pattern '"
                + pattern
                + "' selects no host: '"
                + t.name()
                + "' has "
                + ordered(inventory, t).size()
                + " host(s), and "
                + t.sub()
                + " is past the end");
      } else if (!t.name().equals("all")
          && inventory.groups().keySet().stream().noneMatch(t.matcher())
          && inventory.hosts().keySet().stream().noneMatch(t.matcher())) {
        Set<String> names = new LinkedHashSet<>(inventory.groups().keySet());
        names.addAll(inventory.hosts().keySet());
        problems.add(
            "no group or host in "
                + inventory.source()
                + " "
                + (isLiteral(t.name()) ? "is named" : "matches")
                + " '"
                + t.name()
                + "'"
                + Suggestions.didYouMean(t.name(), names));
      }
    }
    if (problems.isEmpty() && select(inventory, pattern).isEmpty()) {
      problems.add("host pattern '" + pattern + "' selects no hosts of " + inventory.source());
    }
    return problems;
  }

  private static List<Term> parse(String pattern) {
    return terms(pattern).stream().map(t -> Term.parse(t, pattern)).toList();
  }

  private static List<String> terms(String pattern) {
    List<String> terms = new ArrayList<>();
    if (pattern == null) return terms;
    if (pattern.contains(",")) {
      for (String t : pattern.split(",", -1)) terms.add(t.strip());
    } else if (pattern.contains(":")) {
      Matcher m = COLON_TERM.matcher(pattern);
      while (m.find()) terms.add(m.group().strip());
    } else {
      terms.add(pattern.strip());
    }
    terms.removeIf(String::isEmpty);
    return terms;
  }

  /** Names of the hosts a single valid term stands for; null when its index is past the end. */
  private static Set<String> match(Inventory inventory, Term term) {
    List<Host> hosts = ordered(inventory, term);
    if (term.sub() != null) hosts = term.sub().apply(hosts);
    if (hosts == null) return null;
    Set<String> names = new HashSet<>();
    hosts.forEach(h -> names.add(h.name()));
    return names;
  }

  /**
   * The hosts a term matches in the order Ansible's subscripts count them: for each matching group
   * (in inventory order), its own hosts, then its child groups' (the group's tree breadth first);
   * then, when no group matched or the term is a glob or regex, matching hosts in inventory order.
   * Duplicates are dropped.
   */
  private static List<Host> ordered(Inventory inventory, Term term) {
    Set<Host> out = new LinkedHashSet<>();
    String name = term.name();
    boolean anyGroup = false;
    for (Group g : inventory.groups().values()) {
      boolean all = g.name().equals("all");
      if (all ? name.equals("all") || name.equals("*") : term.matcher().test(g.name())) {
        anyGroup = true;
        for (String member : tree(inventory, g)) {
          for (String h : inventory.groups().get(member).hosts()) out.add(inventory.hosts().get(h));
        }
      }
    }
    if (!anyGroup || !isLiteral(name) || name.contains(".")) {
      for (Host h : inventory.hosts().values()) if (term.matcher().test(h.name())) out.add(h);
    }
    if (name.equals("all") || name.equals("*")) out.addAll(inventory.hosts().values());
    return new ArrayList<>(out);
  }

  /** {@code group}, its children in order, then theirs, breadth first, each once. */
  private static List<String> tree(Inventory inventory, Group group) {
    List<String> order = new ArrayList<>(List.of(group.name()));
    for (int i = 0; i < order.size(); i++) {
      Group g = inventory.groups().get(order.get(i));
      if (g == null) continue;
      List<String> children = new ArrayList<>(g.children());
      // Ansible makes ungrouped all's first child, whatever the file order.
      if (g.name().equals("all") && children.remove("ungrouped")) children.add(0, "ungrouped");
      for (String c : children) if (!order.contains(c)) order.add(c);
    }
    return order;
  }

  private static boolean isLiteral(String term) {
    return !term.startsWith("~") && term.chars().noneMatch(c -> c == '*' || c == '?' || c == '[');
  }

  private static Predicate<String> matcher(String term) {
    if (term.startsWith("~")) {
      Pattern p = Pattern.compile(term.substring(1));
      return s -> p.matcher(s).lookingAt(); // Ansible uses re.match: anchored at the start only
    }
    if (isLiteral(term)) return term::equals;
    Pattern p = Pattern.compile(globToRegex(term));
    return s -> p.matcher(s).matches();
  }

  private static String globToRegex(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        case '[' -> {
          int close = glob.indexOf(']', i + 2);
          if (close < 0) {
            re.append("\\[");
          } else {
            String set = glob.substring(i + 1, close);
            if (set.startsWith("!")) set = "^" + set.substring(1);
            re.append('[').append(set.replace("\\", "\\\\").replace("[", "\\[")).append(']');
            i = close;
          }
        }
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return re.toString();
  }
}
