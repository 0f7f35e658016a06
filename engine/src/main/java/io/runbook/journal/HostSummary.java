package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.runbook.result.Outcome;
import java.util.List;

/**
 * What a journal says about one host of a run.
 *
 * @param outcome how the host ended; null while it is in progress, has not started, or ended in a way this
 *     version does not know (then {@code result} still says it)
 * @param result the outcome's label ("ok", "rolled back"), or "in progress" / "not started"
 * @param undone rollback handlers that ran successfully
 * @param durationMillis for a host in progress, the time up to the journal's last event
 * @param inFlight the step running when the journal ends, for a host in progress
 * @param steps every step in the order it started, rollback handlers included
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostSummary(String host, String mode, State state, Outcome outcome, String result, int ok,
    int changed, int failed, int skipped, int undone, String failedStep, String message, String rollbackError,
    List<String> notUndone, long durationMillis, StepRecord inFlight, List<StepRecord> steps) {

  /** Where the host got to. */
  public enum State { FINISHED, IN_PROGRESS, NOT_STARTED }

  public HostSummary {
    notUndone = notUndone == null ? List.of() : List.copyOf(notUndone);
    steps = steps == null ? List.of() : List.copyOf(steps);
  }

  HostSummary withoutSteps() {
    return new HostSummary(host, mode, state, outcome, result, ok, changed, failed, skipped, undone, failedStep,
        message, rollbackError, notUndone, durationMillis, inFlight, List.of());
  }
}
