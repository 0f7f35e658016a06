package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.runbook.result.Outcome;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A past run, as its journal tells it.
 *
 * @param started null when the journal lost even its first line
 * @param durationMillis the run's duration; for an interrupted run, the time up to its last event
 * @param stopped why the rollout stopped early, when the engine said so
 * @param unreadableLines how many lines are not events: {@code damage}'s size
 * @param damage the lines that are not events, with their line numbers and what they seem to be
 *     about: a line cut short by a dying controller ({@code torn}), or damage in the middle that
 *     may hide what happened
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunSummary(
    String runId,
    String runbook,
    String runbookName,
    String inventory,
    String user,
    String controller,
    Integer forks,
    Instant started,
    long durationMillis,
    RunOutcome outcome,
    String stopped,
    List<HostSummary> hosts,
    @JsonSerialize(using = ToStringSerializer.class) Path journal,
    int unreadableLines,
    List<JournalEvents.Damage> damage) {

  /** How a run ended, worst host first. */
  public enum RunOutcome {
    SUCCEEDED("succeeded"),
    CLEANUP_FAILED("cleanup failed"),
    ROLLED_BACK("rolled back"),
    FAILED("failed"),
    ROLLBACK_FAILED("rollback failed"),
    INTERRUPTED("interrupted");

    private final String label;

    RunOutcome(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  public RunSummary {
    hosts = List.copyOf(hosts);
    damage = damage == null ? List.of() : List.copyOf(damage);
  }

  /**
   * One sentence per damaged line: "journal damaged at line 7 (step_finished of h2): what happened
   * there is unknown", or for a line a dying controller cut short, "journal cut short at line 9
   * (...) ...".
   */
  @JsonIgnore
  public List<String> damageNotes() {
    return damage.stream()
        .map(
            d ->
                d.torn()
                    ? "journal cut short at " + d.describe() + " when its controller stopped"
                    : "journal damaged at " + d.describe() + ": what happened there is unknown")
        .toList();
  }

  /**
   * How many hosts ended which way, e.g. "3 ok, 1 rolled back", or "interrupted (1 ok, 1 in
   * progress)".
   */
  @JsonIgnore
  public String tally() {
    Map<String, Integer> n = new LinkedHashMap<>();
    List<HostSummary> ordered = new ArrayList<>(hosts);
    ordered.sort(Comparator.comparingInt(RunSummary::rank));
    ordered.forEach(h -> n.merge(h.result(), 1, Integer::sum));
    List<String> parts = new ArrayList<>();
    n.forEach((label, count) -> parts.add(count + " " + label));
    String counts = String.join(", ", parts);
    if (outcome != RunOutcome.INTERRUPTED) return counts.isEmpty() ? outcome.label() : counts;
    return counts.isEmpty() ? "interrupted" : "interrupted (" + counts + ")";
  }

  /** The same run without the hosts' steps: what a list of runs shows. */
  public RunSummary withoutSteps() {
    return new RunSummary(
        runId,
        runbook,
        runbookName,
        inventory,
        user,
        controller,
        forks,
        started,
        durationMillis,
        outcome,
        stopped,
        hosts.stream().map(HostSummary::withoutSteps).toList(),
        journal,
        unreadableLines,
        damage);
  }

  /** Finished hosts come in this order of their outcomes, then the unfinished ones. */
  private static final List<Outcome> OUTCOME_ORDER =
      List.of(
          Outcome.SUCCEEDED,
          Outcome.CLEANUP_FAILED,
          Outcome.FAILED,
          Outcome.ROLLED_BACK,
          Outcome.ROLLBACK_FAILED,
          Outcome.UNDONE,
          Outcome.UNREACHABLE,
          Outcome.NOT_RUN);

  private static int rank(HostSummary h) {
    return switch (h.state()) {
      case FINISHED -> h.outcome() == null ? 50 : OUTCOME_ORDER.indexOf(h.outcome());
      case IN_PROGRESS -> 100;
      case NOT_STARTED -> 101;
    };
  }
}
