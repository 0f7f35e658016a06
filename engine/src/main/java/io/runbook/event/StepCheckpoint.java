package io.runbook.event;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.Map;

/**
 * A step is about to change its host and says how to take the change back: the journal is written before
 * the change it records, so a step whose controller dies in the middle can still be undone by the next one.
 * {@code data} is private undo state (old file contents may be secrets): it goes to the run's owner-only
 * undo state file, never into the journal's line or {@code --json}.
 */
public record StepCheckpoint(Instant at, String host, int index, @JsonIgnore Map<String, Object> data)
    implements Event {

  public StepCheckpoint {
    data = data == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(data));
  }
}
