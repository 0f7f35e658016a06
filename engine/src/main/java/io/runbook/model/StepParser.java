package io.runbook.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.step.Step;
import io.runbook.step.StepRegistry;
import io.runbook.template.Templates;
import io.runbook.yaml.Durations;
import io.runbook.yaml.JsonSchemas;
import io.runbook.yaml.Problems;
import io.runbook.yaml.Suggestions;
import io.runbook.yaml.YamlDocument;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Turns the YAML of one step into a {@link StepSpec}: the common keys, exactly one step type, and
 * that type's arguments checked against its schema. Arguments that hold templates are checked again
 * per host, once rendered (see the planner).
 */
final class StepParser {
  /** Keys every step may have besides its one step type. */
  static final Set<String> COMMON_KEYS =
      Set.of(
          "name",
          "when",
          "register",
          "retries",
          "delay",
          "until",
          "timeout",
          "become",
          "become_user",
          "changed_when",
          "failed_when",
          "ignore_errors",
          "idempotent",
          "rollback",
          "delegate_to",
          "loop",
          "loop_var");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final YamlDocument doc;
  private final Problems problems;

  StepParser(YamlDocument doc, Problems problems) {
    this.doc = doc;
    this.problems = problems;
  }

  List<StepSpec> parseList(Object value, String pointer, boolean handlers) {
    List<StepSpec> out = new ArrayList<>();
    if (!(value instanceof List<?> list)) {
      if (value != null) problems.add(doc.location(pointer), "expected a list of steps");
      return out;
    }
    for (int i = 0; i < list.size(); i++) {
      StepSpec s = parse(list.get(i), YamlDocument.child(pointer, i), handlers);
      if (s != null) out.add(s);
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private StepSpec parse(Object value, String pointer, boolean handler) {
    if (!(value instanceof Map<?, ?> raw)) {
      problems.add(
          doc.location(pointer),
          "a step must be a mapping with 'name' and a step type such as "
              + "'shell:'; got "
              + describe(value));
      return null;
    }
    Map<String, Object> m = (Map<String, Object>) raw;
    String name = m.get("name") instanceof String s && !s.isBlank() ? s : null;
    String label = name == null ? "step #" + (index(pointer) + 1) : "step '" + name + "'";
    if (name == null) {
      problems.add(
          doc.location(pointer),
          label
              + ": missing 'name' (every step needs one, for plans,"
              + " recaps and the journal)");
    }
    List<String> types = new ArrayList<>();
    Collection<String> known = new TreeSet<>(COMMON_KEYS);
    known.addAll(StepRegistry.keys());
    for (String key : m.keySet()) {
      if (COMMON_KEYS.contains(key)) continue;
      if (StepRegistry.find(key).isPresent()) {
        types.add(key);
      } else {
        problems.add(
            doc.keyLocation(YamlDocument.child(pointer, key)),
            label
                + ": unknown key '"
                + key
                + "'"
                + Suggestions.didYouMean(key, known)
                + "; step types are: "
                + String.join(", ", new TreeSet<>(StepRegistry.keys())));
      }
    }
    if (types.size() > 1) {
      problems.add(
          doc.keyLocation(YamlDocument.child(pointer, types.get(1))),
          label
              + ": has "
              + types.size()
              + " step types ("
              + String.join(", ", types)
              + "); a step does one thing, split it");
    }
    if (types.isEmpty()) {
      if (m.keySet().stream().allMatch(COMMON_KEYS::contains)) {
        problems.add(
            doc.location(pointer),
            label
                + ": no step type; add one of: "
                + String.join(", ", new TreeSet<>(StepRegistry.keys())));
      }
      return null;
    }
    String type = types.get(0);
    Object args = m.get(type);
    String argsPointer = YamlDocument.child(pointer, type);
    checkArgs(StepRegistry.find(type).orElseThrow(), args, argsPointer, label + " (" + type + ")");
    // Template syntax is known without any variable: validate finds what plan would, once, here.
    if (name != null) syntax(name, YamlDocument.child(pointer, "name"), label + ": name");
    syntaxAll(args, argsPointer, label + " (" + type + ")");
    if (type.equals("assert") && args instanceof Map<?, ?> a) {
      Object that = a.get("that");
      List<?> exprs = that instanceof List<?> l ? l : that == null ? List.of() : List.of(that);
      for (int i = 0; i < exprs.size(); i++) {
        if (!(exprs.get(i) instanceof String e)) continue;
        String at =
            that instanceof List<?>
                ? YamlDocument.child(YamlDocument.child(argsPointer, "that"), i)
                : YamlDocument.child(argsPointer, "that");
        Templates.conditionSyntaxProblem(e)
            .ifPresent(p -> problems.add(doc.location(at), label + " (assert): that: " + p));
      }
    }

    String register = string(m, "register", pointer, label);
    if (register != null && !IDENTIFIER.matcher(register).matches()) {
      problems.add(
          doc.location(YamlDocument.child(pointer, "register")),
          label
              + ": register name '"
              + register
              + "' must be an identifier like "
              + register.replaceAll("\\W", "_"));
    }
    List<StepSpec> rollback = null;
    if (m.containsKey("rollback")) {
      if (handler) {
        problems.add(
            doc.keyLocation(YamlDocument.child(pointer, "rollback")),
            label + ": a rollback handler cannot have its own 'rollback'");
      } else {
        rollback = parseList(m.get("rollback"), YamlDocument.child(pointer, "rollback"), true);
      }
    }
    String delegate = string(m, "delegate_to", pointer, label);
    if (delegate != null) {
      if (delegate.isBlank()) {
        problems.add(
            doc.location(YamlDocument.child(pointer, "delegate_to")),
            label + ": 'delegate_to' must name an inventory host");
        delegate = null;
      } else {
        syntax(delegate, YamlDocument.child(pointer, "delegate_to"), label + ": delegate_to");
      }
    }
    if (rollback != null && delegate != null) {
      // the handlers of a delegated step undo it where it ran, unless they say otherwise
      String d = delegate;
      rollback =
          rollback.stream().map(h -> h.delegateTo() == null ? h.withDelegate(d) : h).toList();
    }
    Object loop = loop(m, pointer, label);
    String loopVar = string(m, "loop_var", pointer, label);
    if (loopVar != null && !IDENTIFIER.matcher(loopVar).matches()) {
      problems.add(
          doc.location(YamlDocument.child(pointer, "loop_var")),
          label
              + ": loop_var '"
              + loopVar
              + "' must be an identifier like "
              + loopVar.replaceAll("\\W", "_"));
    } else if (loopVar != null && !m.containsKey("loop")) {
      problems.add(
          doc.keyLocation(YamlDocument.child(pointer, "loop_var")),
          label + ": 'loop_var' without 'loop': add loop: [...] or remove loop_var");
    }
    Integer retries = integer(m, "retries", pointer, label);
    return new StepSpec(
        name == null ? label : name,
        type,
        args,
        condition(m, "when", pointer, label),
        register,
        retries == null ? 0 : retries,
        duration(m, "delay", pointer, label),
        condition(m, "until", pointer, label),
        duration(m, "timeout", pointer, label),
        bool(m, "become", pointer, label),
        string(m, "become_user", pointer, label),
        condition(m, "changed_when", pointer, label),
        condition(m, "failed_when", pointer, label),
        Boolean.TRUE.equals(bool(m, "ignore_errors", pointer, label)),
        Boolean.TRUE.equals(bool(m, "idempotent", pointer, label)),
        rollback,
        doc.location(pointer),
        pointer,
        delegate,
        loop,
        loop == null ? null : loopVar);
  }

  /**
   * {@code loop:} a YAML list (its strings may be templates), or one {@code "[=expr]"} whose
   * expression yields a list when the step runs; null when absent or wrong (then reported).
   */
  private Object loop(Map<String, Object> m, String pointer, String label) {
    Object v = m.get("loop");
    if (v == null) return null;
    String at = YamlDocument.child(pointer, "loop");
    if (v instanceof List<?> l) {
      syntaxAll(l, at, label + ": loop");
      return l;
    }
    if (v instanceof String s
        && s.strip().startsWith("[=")
        && s.strip().endsWith("]")
        && Templates.syntaxProblem(s.strip()).isEmpty()) {
      String expr = s.strip().substring(2, s.strip().length() - 1);
      if (Templates.syntaxProblem("[#assign x = (" + expr + ")]").isEmpty()) return s.strip();
    }
    if (v instanceof String s) {
      String problem = Templates.syntaxProblem(s).orElse(null);
      problems.add(
          doc.location(at),
          label
              + ": loop: "
              + (problem != null
                  ? problem
                  : "a string must be one \"[=expression]\" that yields a list, such as \"[=users]\"; got "
                      + describe(v)));
      return null;
    }
    problems.add(
        doc.location(at),
        label
            + ": 'loop' must be a list, or a \"[=expression]\" that yields one; got "
            + describe(v));
    return null;
  }

  private void checkArgs(Step<?> step, Object args, String pointer, String label) {
    boolean valid =
        JsonSchemas.validate(
            JsonSchemas.load(step.schemaResource()),
            args,
            doc,
            pointer,
            label,
            problems,
            Templates::isTemplate);
    if (valid && !containsTemplate(args)) {
      StepBinding.bind(step, args, doc, pointer, label, problems);
    }
  }

  static boolean containsTemplate(Object v) {
    if (v instanceof String s) return Templates.isTemplate(s);
    if (v instanceof Map<?, ?> m) return m.values().stream().anyMatch(StepParser::containsTemplate);
    if (v instanceof List<?> l) return l.stream().anyMatch(StepParser::containsTemplate);
    return false;
  }

  private void syntax(String text, String pointer, String label) {
    Templates.syntaxProblem(text)
        .ifPresent(p -> problems.add(doc.location(pointer), label + ": " + p));
  }

  /** Every string inside a step's arguments, each at its own location. */
  private void syntaxAll(Object value, String pointer, String label) {
    if (value instanceof String s) {
      syntax(s, pointer, label);
    } else if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> syntaxAll(v, YamlDocument.child(pointer, k), label));
    } else if (value instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) syntaxAll(l.get(i), YamlDocument.child(pointer, i), label);
    }
  }

  /**
   * A condition: a FreeMarker expression, a YAML boolean, or a list of expressions that must all
   * hold.
   */
  private String condition(Map<String, Object> m, String key, String pointer, String label) {
    String c = conditionText(m, key, pointer, label);
    if (c != null) {
      Templates.conditionSyntaxProblem(c)
          .ifPresent(
              p ->
                  problems.add(
                      doc.location(YamlDocument.child(pointer, key)),
                      label + ": " + key + ": " + p));
    }
    return c;
  }

  private String conditionText(Map<String, Object> m, String key, String pointer, String label) {
    Object v = m.get(key);
    if (v == null) return null;
    if (v instanceof Boolean b) return b.toString();
    if (v instanceof String s && !s.isBlank()) return s.strip();
    if (v instanceof List<?> l
        && !l.isEmpty()
        && l.stream().allMatch(x -> x instanceof String || x instanceof Boolean)) {
      return String.join(" && ", l.stream().map(x -> "(" + x + ")").toList());
    }
    problems.add(
        doc.location(YamlDocument.child(pointer, key)),
        label
            + ": '"
            + key
            + "' must be an expression such as \"result.rc == 0\", true/false, or a list of expressions");
    return null;
  }

  private String string(Map<String, Object> m, String key, String pointer, String label) {
    Object v = m.get(key);
    if (v == null || v instanceof String) return (String) v;
    problems.add(
        doc.location(YamlDocument.child(pointer, key)), label + ": '" + key + "' must be a string");
    return null;
  }

  private Boolean bool(Map<String, Object> m, String key, String pointer, String label) {
    Object v = m.get(key);
    if (v == null || v instanceof Boolean) return (Boolean) v;
    problems.add(
        doc.location(YamlDocument.child(pointer, key)),
        label + ": '" + key + "' must be true or false, got " + describe(v));
    return null;
  }

  private Integer integer(Map<String, Object> m, String key, String pointer, String label) {
    Object v = m.get(key);
    if (v == null) return null;
    if (v instanceof Long l && l >= 0 && l <= 10_000) return l.intValue();
    problems.add(
        doc.location(YamlDocument.child(pointer, key)),
        label + ": '" + key + "' must be a whole number from 0 to 10000, got " + describe(v));
    return null;
  }

  private Duration duration(Map<String, Object> m, String key, String pointer, String label) {
    Object v = m.get(key);
    if (v == null) return null;
    Duration d = Durations.parse(v);
    if (d == null) {
      problems.add(
          doc.location(YamlDocument.child(pointer, key)),
          label
              + ": '"
              + key
              + "' must be a duration like 30, 30s, 250ms, 5m or 1h, got "
              + describe(v));
    }
    return d;
  }

  private static int index(String pointer) {
    try {
      return Integer.parseInt(pointer.substring(pointer.lastIndexOf('/') + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static String describe(Object v) {
    if (v == null) return "nothing";
    if (v instanceof String s) return "\"" + s + "\"";
    if (v instanceof Map) return "a mapping";
    if (v instanceof List) return "a list";
    return MAPPER.valueToTree(v).toString();
  }
}
