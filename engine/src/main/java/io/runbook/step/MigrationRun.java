package io.runbook.step;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What one {@code migrate} step found and did, and the result that reports it. */
final class MigrationRun {
  private final List<String> pendingBefore = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();
  private final List<String> marked;
  private final List<String> applied = new ArrayList<>();
  private final List<MigrationFiles.Migration> toApply = new ArrayList<>();
  private final List<String> unknown;

  MigrationRun(List<MigrationFiles.Migration> all, List<String> recorded, List<String> marks) {
    for (MigrationFiles.Migration m : all) {
      if (MigrationFiles.recorded(recorded, m.name())) {
        skipped.add(m.name());
      } else {
        pendingBefore.add(m.name());
        if (!marks.contains(m.name())) toApply.add(m);
      }
    }
    marked = List.copyOf(marks);
    // e.g. a newer release migrated this database already: worth saying before anyone downgrades it
    unknown =
        recorded.stream()
            .filter(
                v -> all.stream().noneMatch(m -> m.name().equals(v) || m.name().equals(v + ".sql")))
            .toList();
  }

  List<String> skipped() {
    return skipped;
  }

  List<String> applied() {
    return applied;
  }

  List<MigrationFiles.Migration> toApply() {
    return toApply;
  }

  Map<String, Object> data() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("applied", List.copyOf(applied));
    d.put("skipped", List.copyOf(skipped));
    d.put("marked", marked);
    d.put("pending_before", List.copyOf(pendingBefore));
    d.put("unknown", unknown);
    return d;
  }

  /** {@code 2 applied (002_a.sql, 003_b.sql), 1 skipped}: CHANGED when it applied or marked any. */
  StepResult done() {
    StringBuilder m = new StringBuilder().append(applied.size()).append(" applied");
    if (!applied.isEmpty()) m.append(" (").append(String.join(", ", applied)).append(')');
    m.append(", ").append(skipped.size()).append(" skipped");
    if (!marked.isEmpty())
      m.append("; marked as applied without running: ").append(String.join(", ", marked));
    if (!unknown.isEmpty()) {
      m.append("; the database also records ")
          .append(String.join(", ", unknown))
          .append(", not among these migrations");
    }
    boolean changed = !applied.isEmpty() || !marked.isEmpty();
    return StepResult.of(changed ? Status.CHANGED : Status.OK, m.toString()).withData(data());
  }

  /**
   * The result when migration {@code name} failed or timed out; it left nothing of itself behind.
   */
  StepResult failed(String name, ExecResult r, String engine, String table, Duration timeout) {
    Map<String, Object> d = data();
    d.put("failed", name);
    String earlier = "earlier migrations stay applied (" + applied.size() + " applied)";
    MigrationDb.Failure f = MigrationDb.failure(engine, r);
    if (r.timedOut() || MigrationDb.timedOut(f.error())) {
      d.put("error", "timed out");
      return StepResult.fromExec(r)
          .withStatus(
              Status.FAILED,
              name
                  + " timed out after "
                  + Durations.format(timeout)
                  + " and was stopped before it was recorded; "
                  + earlier
                  + "; if it only needs longer, raise timeout_per_migration")
          .withData(d);
    }
    d.put("error", f.error());
    if (f.line() != null) d.put("error_line", f.line());
    String message =
        MigrationDb.partlyApplied(f.error())
            ? name
                + " failed: "
                + f.error()
                + " — the migration looks partly applied (its changes exist but it is"
                + " not recorded in "
                + table
                + "). Check the schema; if it is complete, record it with mark_applied: ["
                + name
                + "]; otherwise fix the schema and run again."
            : name + " failed: " + f.error() + "; " + earlier;
    return StepResult.fromExec(r).withStatus(Status.FAILED, message).withData(d);
  }
}
