package io.runbook.step;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** Step arguments written as YAML, bound the way the engine binds them. */
final class Bind {
  static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

  private Bind() {}

  static Object yaml(String yaml) {
    return new Load(LoadSettings.builder().build()).loadFromString(yaml);
  }

  static <A> A args(Step<A> step, String yaml) {
    return MAPPER.convertValue(yaml(yaml), step.argsType());
  }
}
