package io.runbook.model;

import io.runbook.yaml.Location;
import io.runbook.yaml.YamlDocument;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A parsed runbook. Steps of {@link #common()} run on every host; steps of {@code modes.get(mode)}
 * run on hosts whose "mode" variable names that mode. Within a phase, common steps come first.
 *
 * @param hosts the inventory pattern the runbook targets
 * @param timeout default time-out of a step
 * @param become default privilege escalation of a step
 * @param rollout batches, gates and failure policy ({@link Rollout#DEFAULT} when not written)
 * @param secrets variables the runbook marks secret ({@code secrets:}), beyond those whose name
 *     says so
 * @param beforeAll steps run once for the whole run before batch 1 ({@code before_all:}), or null
 * @param afterAll steps run once for the whole run after the last batch ({@code after_all:}), or
 *     null
 */
public record Runbook(
    String apiVersion,
    String name,
    String description,
    String hosts,
    Map<String, Object> vars,
    Duration timeout,
    boolean become,
    Map<Phase, List<StepSpec>> common,
    Map<String, Map<Phase, List<StepSpec>>> modes,
    Rollout rollout,
    Path path,
    YamlDocument document,
    List<String> secrets,
    RunOnce beforeAll,
    RunOnce afterAll) {

  public static final String API_VERSION = "runbook/v1";
  public static final String KIND = "Runbook";

  public Runbook {
    secrets = secrets == null ? List.of() : List.copyOf(secrets);
  }

  public Runbook(
      String apiVersion,
      String name,
      String description,
      String hosts,
      Map<String, Object> vars,
      Duration timeout,
      boolean become,
      Map<Phase, List<StepSpec>> common,
      Map<String, Map<Phase, List<StepSpec>>> modes,
      Rollout rollout,
      Path path,
      YamlDocument document,
      List<String> secrets) {
    this(
        apiVersion,
        name,
        description,
        hosts,
        vars,
        timeout,
        become,
        common,
        modes,
        rollout,
        path,
        document,
        secrets,
        null,
        null);
  }

  /** The run-once phases the runbook has, before_all first. */
  public List<RunOnce> runOnce() {
    List<RunOnce> out = new ArrayList<>();
    if (beforeAll != null) out.add(beforeAll);
    if (afterAll != null) out.add(afterAll);
    return out;
  }

  public String file() {
    return document.displayName();
  }

  public Location location() {
    return document.location("");
  }

  public Path baseDir() {
    Path parent = path.toAbsolutePath().getParent();
    return parent == null ? Path.of(".") : parent;
  }

  /** The steps a host of {@code mode} runs in {@code phase}: common ones, then the mode's. */
  public List<StepSpec> steps(Phase phase, String mode) {
    List<StepSpec> c = common.getOrDefault(phase, List.of());
    Map<Phase, List<StepSpec>> m = mode == null ? Map.of() : modes.getOrDefault(mode, Map.of());
    List<StepSpec> s = m.getOrDefault(phase, List.of());
    if (s.isEmpty()) return c;
    if (c.isEmpty()) return s;
    return Stream.concat(c.stream(), s.stream()).toList();
  }

  /**
   * The host variable that selects a host's mode: {@code mode_variable} when the runbook sets it
   * (an inventory may use {@code mode} for something else), else {@code mode}. Read from the
   * document so that this record keeps its shape.
   */
  public String modeVariable() {
    return document.root() instanceof Map<?, ?> root
            && root.get("mode_variable") instanceof String v
            && !v.isBlank()
        ? v
        : "mode";
  }

  public Runbook withRollout(Rollout r) {
    return new Runbook(
        apiVersion,
        name,
        description,
        hosts,
        vars,
        timeout,
        become,
        common,
        modes,
        r,
        path,
        document,
        secrets,
        beforeAll,
        afterAll);
  }

  /** Every {@code register:} name in the runbook, handlers included. */
  public Set<String> registeredNames() {
    Set<String> names = new LinkedHashSet<>();
    common.values().forEach(l -> collect(l, names));
    collect(rollout.gate(), names);
    modes.values().forEach(m -> m.values().forEach(l -> collect(l, names)));
    return names;
  }

  private static void collect(List<StepSpec> steps, Set<String> names) {
    for (StepSpec s : steps) {
      if (s.register() != null) names.add(s.register());
      if (s.rollback() != null) collect(s.rollback(), names);
    }
  }
}
