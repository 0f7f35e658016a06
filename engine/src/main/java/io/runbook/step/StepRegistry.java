package io.runbook.step;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every step type, by the YAML key that selects it. One explicit table rather than a ServiceLoader:
 * the step types ship with the engine, and reading this file tells you all of them.
 */
public final class StepRegistry {
  private static final Map<String, Step<?>> STEPS =
      table(
          new ShellStep(),
          new CommandStep(),
          new CopyStep(),
          new TemplateStep(),
          new BackupStep(),
          new RestoreStep(),
          new SqliteStep(),
          new MigrateStep(),
          new HttpStep(),
          new WaitForStep(),
          new VersionStep(),
          new AssertStep(),
          new JsonSchemaStep(),
          new ConfigDiffStep(),
          new PauseStep(),
          new KubectlStep(),
          new DockerImageStep(),
          new DockerContainerStep(),
          new DockerVolumeStep(),
          new ComposeStep(),
          new HaproxyStep());

  private StepRegistry() {}

  /** The step type selected by {@code key}, e.g. "shell". */
  public static Optional<Step<?>> find(String key) {
    return Optional.ofNullable(STEPS.get(key));
  }

  /** Every step type key, in the order of the table. */
  public static Set<String> keys() {
    return STEPS.keySet();
  }

  public static Collection<Step<?>> all() {
    return STEPS.values();
  }

  private static Map<String, Step<?>> table(Step<?>... steps) {
    Map<String, Step<?>> m = new LinkedHashMap<>();
    for (Step<?> s : List.of(steps)) {
      if (m.put(s.key(), s) != null)
        throw new IllegalStateException("two step types named " + s.key());
    }
    return Collections.unmodifiableMap(m);
  }
}
