package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.runbook.result.Status;
import java.time.Instant;

/**
 * One step as a journal tells it: started, and finished unless the controller stopped first.
 *
 * @param index the step's position in the host's plan; 0 for rollback handlers
 * @param forStep for a rollback step, the forward step it undoes
 * @param status null while the step is in flight
 * @param message the result's one-line message (why it failed, what it did)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepRecord(
    String phase,
    int index,
    String name,
    String type,
    boolean rollback,
    String forStep,
    Instant startedAt,
    Status status,
    String message,
    long durationMillis,
    int attempts) {

  public boolean inFlight() {
    return status == null;
  }

  public boolean failed() {
    return status == Status.FAILED;
  }
}
