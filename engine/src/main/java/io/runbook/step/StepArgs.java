package io.runbook.step;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one Jackson configuration that turns a step's arguments (YAML values, rendered) into its
 * argument record, wherever they are bound: parsing, planning, running, rebuilding an undo,
 * rehearsing, tests. A misspelt key and a missing number are errors, never a silent default.
 */
public final class StepArgs {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
          .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

  private StepArgs() {}

  /**
   * The arguments as {@code type}; null for null.
   *
   * @throws IllegalArgumentException when they do not fit (its cause, a JsonMappingException, has
   *     the path)
   */
  public static <A> A bind(Object raw, Class<A> type) {
    return MAPPER.convertValue(raw, type);
  }
}
