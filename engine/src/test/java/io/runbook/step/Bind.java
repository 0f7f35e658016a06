package io.runbook.step;

import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** Step arguments written as YAML, bound the way the engine binds them. */
final class Bind {
  private Bind() {}

  static Object yaml(String yaml) {
    return new Load(LoadSettings.builder().build()).loadFromString(yaml);
  }

  static <A> A args(Step<A> step, String yaml) {
    return step.bind(yaml(yaml));
  }
}
