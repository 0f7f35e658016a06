package io.runbook.event;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A step is about to change its host and says how to take the change back: the journal is written
 * before the change it records, so a step whose controller dies in the middle can still be undone
 * by the next one. {@code data} is private undo state (old file contents may be secrets): it goes
 * to the run's owner-only undo state file, never into the journal's line or {@code --json}.
 *
 * @param iteration the 1-based item of a looped step, 0 when the step is not looped
 */
public record StepCheckpoint(
    Instant at, String host, int index, @JsonIgnore Map<String, Object> data, int iteration)
    implements Event {

  public StepCheckpoint {
    data = data == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(data));
  }

  public StepCheckpoint(Instant at, String host, int index, Map<String, Object> data) {
    this(at, host, index, data, 0);
  }
}
