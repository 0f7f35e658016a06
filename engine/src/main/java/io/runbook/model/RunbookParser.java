package io.runbook.model;

import io.runbook.template.Templates;
import io.runbook.yaml.Durations;
import io.runbook.yaml.JsonSchemas;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import io.runbook.yaml.YamlLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a runbook file: YAML with positions, the runbook schema, then every step. All problems are
 * collected; the result is empty when there was any.
 */
public final class RunbookParser {
  public static final String SCHEMA = "/io/runbook/schema/runbook.json";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  private RunbookParser() {}

  public static Optional<Runbook> parse(Path path, String displayName, Problems problems) {
    Problems mine = new Problems();
    Optional<YamlDocument> loaded = YamlLoader.load(path, displayName, mine);
    if (loaded.isEmpty()) {
      problems.addAll(mine);
      return Optional.empty();
    }
    YamlDocument doc = loaded.get();
    if (!(doc.root() instanceof Map<?, ?>)) {
      mine.add(
          doc.location(""),
          "a runbook must be a YAML mapping with apiVersion: "
              + Runbook.API_VERSION
              + ", kind: "
              + Runbook.KIND
              + ", name, hosts and phases or modes");
      problems.addAll(mine);
      return Optional.empty();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> root = (Map<String, Object>) doc.root();
    JsonSchemas.validate(JsonSchemas.load(SCHEMA), root, doc, "", "", mine, Templates::isTemplate);

    StepParser steps = new StepParser(doc, mine);
    Map<Phase, List<StepSpec>> common = phases(root.get("phases"), "/phases", steps);
    Map<String, Map<Phase, List<StepSpec>>> modes = new LinkedHashMap<>();
    if (root.get("modes") instanceof Map<?, ?> m) {
      m.forEach(
          (k, v) ->
              modes.put(String.valueOf(k), phases(v, YamlDocument.child("/modes", k), steps)));
    }
    Rollout rollout = rollout(root.get("rollout"), steps);
    RunOnce beforeAll = runOnce(Phase.BEFORE_ALL, root.get("before_all"), steps);
    RunOnce afterAll = runOnce(Phase.AFTER_ALL, root.get("after_all"), steps);
    if (root.get("vars") instanceof Map<?, ?> vs) {
      vs.forEach(
          (k, v) -> {
            if (v instanceof String text) {
              Templates.syntaxProblem(text)
                  .ifPresent(
                      p ->
                          mine.add(
                              doc.location(YamlDocument.child("/vars", k)),
                              "variable '" + k + "': " + p));
            }
          });
    }
    if (!root.containsKey("phases") && !root.containsKey("modes")) {
      mine.add(
          doc.location(""),
          "the runbook has no steps: add 'phases:' (for every host) or 'modes:' "
              + "(per deployment mode)");
    }
    if (!mine.isEmpty()) {
      problems.addAll(mine);
      return Optional.empty();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> vars =
        root.get("vars") instanceof Map<?, ?> v ? (Map<String, Object>) v : Map.of();
    Duration timeout =
        root.containsKey("timeout") ? Durations.parse(root.get("timeout")) : DEFAULT_TIMEOUT;
    Runbook runbook =
        new Runbook(
            (String) root.get("apiVersion"),
            (String) root.get("name"),
            (String) root.get("description"),
            (String) root.get("hosts"),
            vars,
            timeout,
            Boolean.TRUE.equals(root.get("become")),
            common,
            modes,
            rollout,
            path,
            doc,
            root.get("secrets") instanceof List<?> l
                ? l.stream().map(String::valueOf).toList()
                : List.of(),
            beforeAll,
            afterAll);
    RegisterOrder.check(runbook, mine);
    if (!mine.isEmpty()) {
      problems.addAll(mine);
      return Optional.empty();
    }
    return Optional.of(runbook);
  }

  @SuppressWarnings("unchecked")
  private static Rollout rollout(Object value, StepParser steps) {
    if (!(value instanceof Map<?, ?> raw)) return Rollout.DEFAULT;
    Map<String, Object> m = (Map<String, Object>) raw;
    Object serial = m.get("serial");
    List<Object> sizes =
        serial == null ? List.of() : serial instanceof List<?> l ? List.copyOf(l) : List.of(serial);
    int maxFail = m.get("max_fail_percentage") instanceof Long l ? l.intValue() : 0;
    Rollout.Policy policy =
        m.get("on_failure") instanceof String s ? policyOrDefault(s) : Rollout.Policy.ROLLBACK_HOST;
    List<StepSpec> gate =
        m.containsKey("gate") ? steps.parseList(m.get("gate"), "/rollout/gate", false) : List.of();
    return new Rollout(sizes, maxFail, policy, Boolean.TRUE.equals(m.get("confirm")), gate);
  }

  /** {@code before_all:} / {@code after_all:}; the schema has already reported a wrong shape. */
  private static RunOnce runOnce(Phase phase, Object value, StepParser steps) {
    if (!(value instanceof Map<?, ?> m)) return null;
    String pointer = "/" + phase.key();
    List<StepSpec> list =
        steps.parseList(m.get("steps"), YamlDocument.child(pointer, "steps"), false);
    return new RunOnce(phase, m.get("on") instanceof String on ? on.strip() : "", list, pointer);
  }

  /** The schema has already reported an unknown policy. */
  private static Rollout.Policy policyOrDefault(String key) {
    try {
      return Rollout.Policy.of(key);
    } catch (IllegalArgumentException e) {
      return Rollout.Policy.ROLLBACK_HOST;
    }
  }

  private static Map<Phase, List<StepSpec>> phases(Object value, String pointer, StepParser steps) {
    Map<Phase, List<StepSpec>> out = new EnumMap<>(Phase.class);
    if (!(value instanceof Map<?, ?> m)) return out;
    for (Phase phase : Phase.PER_HOST) {
      Object list = m.get(phase.key());
      if (list != null)
        out.put(phase, steps.parseList(list, YamlDocument.child(pointer, phase.key()), false));
    }
    return out;
  }
}
