package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A rehearsal's verdict, computed once from its checks and then only shown: the console summary,
 * {@code rehearsal.md}, {@code rehearsal.json}, the rehearsal record, {@code history}, {@code show}
 * and the HTML report all print this record, so they cannot disagree.
 *
 * @param state {@code passed}, {@code failed} or {@code interrupted}
 * @param upgradePassed every rehearsal host upgraded (the run's exit code was 0)
 * @param rollbackClean no rollback handler failed, in the upgrade's own rollbacks nor in the
 *     rollback of the run
 * @param restored every rehearsal host whose checksums were taken has them back after the rollback
 * @param failures why it failed, one line each; empty when it passed
 * @param warnings what the operator should know even when it passed (a stale backup, ...)
 */
public record RehearsalVerdict(
    String state,
    int exitCode,
    boolean upgradePassed,
    boolean rollbackClean,
    boolean restored,
    List<String> failures,
    List<String> warnings) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public RehearsalVerdict {
    failures = List.copyOf(failures);
    warnings = List.copyOf(warnings);
  }

  /**
   * @param upgrade the upgrade on the rehearsal hosts; null when the rehearsal stopped before it
   * @param rollback the rollback of that run; null when no host needed one (a host the upgrade
   *     itself rolled back is checked through {@code upgrade})
   * @param restored per host, whether its checksums after the rollback equal those before the
   *     upgrade
   * @param aborted what stopped the rehearsal before it finished its checks (seeding, start), or
   *     null
   * @param interrupted the operator pressed Ctrl-C
   */
  static RehearsalVerdict of(
      RunResult upgrade,
      RunResult rollback,
      Map<String, Boolean> restored,
      String aborted,
      boolean interrupted,
      List<String> warnings) {
    List<String> failures = new ArrayList<>();
    if (aborted != null) failures.add(aborted);
    boolean upgradePassed = upgrade != null && upgrade.exitCode() == 0 && !upgrade.interrupted();
    if (upgrade != null) {
      for (HostResult h : upgrade.hosts()) {
        if (h.outcome() != Outcome.SUCCEEDED) {
          failures.add(
              "upgrade on "
                  + h.host()
                  + ": "
                  + h.outcome().label()
                  + (h.failedStep() == null ? "" : " after '" + h.failedStep() + "' failed")
                  + (h.message() == null ? "" : ": " + h.message()));
        }
      }
    } else if (aborted == null && !interrupted) {
      failures.add("the upgrade did not run");
    }
    boolean rollbackClean = true;
    for (RunResult r : new RunResult[] {upgrade, rollback}) {
      if (r == null) continue;
      for (HostResult h : r.hosts()) {
        if (h.outcome() == Outcome.ROLLBACK_FAILED) {
          rollbackClean = false;
          failures.add(
              "rollback on "
                  + h.host()
                  + " failed"
                  + (h.rollbackError() == null ? "" : ": " + h.rollbackError()));
        }
      }
    }
    boolean allRestored = !restored.isEmpty();
    for (Map.Entry<String, Boolean> e : restored.entrySet()) {
      if (!e.getValue()) {
        allRestored = false;
        failures.add(
            "the rollback did not restore the checksums of data and config on " + e.getKey());
      }
    }
    String state = interrupted ? "interrupted" : failures.isEmpty() ? "passed" : "failed";
    int exit = interrupted ? 130 : !rollbackClean ? 3 : failures.isEmpty() ? 0 : 2;
    return new RehearsalVerdict(
        state, exit, upgradePassed, rollbackClean, allRestored, failures, warnings);
  }

  public boolean passed() {
    return state.equals("passed");
  }

  /**
   * What {@code history} and {@code show} print as the run's result: it ran on disposable copies.
   */
  public String outcome() {
    return "rehearsal " + state;
  }

  /** {@code REHEARSAL PASSED}, as the console and the report's header say it. */
  public String headline() {
    return "REHEARSAL " + state.toUpperCase(Locale.ROOT);
  }

  /** The rollback's line of the summary. */
  public String rollbackLine() {
    if (!rollbackClean) return "FAILED: a rollback handler failed";
    return restored
        ? "restored the checksums of data and config"
        : "did NOT restore the checksums of data and config";
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", state);
    m.put("outcome", outcome());
    m.put("exit_code", exitCode);
    m.put("upgrade_passed", upgradePassed);
    m.put("rollback_clean", rollbackClean);
    m.put("restored", restored);
    m.put("failures", failures);
    m.put("warnings", warnings);
    return m;
  }

  /**
   * The verdict a {@code rehearsal.json} holds (one written before verdicts existed: from its
   * "passed").
   */
  public static RehearsalVerdict fromReport(JsonNode n) {
    if (n.has("verdict")) return fromJson(n.path("verdict"));
    boolean passed = n.path("passed").asBoolean();
    return new RehearsalVerdict(
        passed ? "passed" : "failed",
        passed ? 0 : 2,
        n.path("upgrade_passed").asBoolean(),
        true,
        n.path("rollback_passed").asBoolean(),
        List.of(),
        List.of());
  }

  static RehearsalVerdict fromJson(JsonNode v) {
    List<String> failures = new ArrayList<>();
    v.path("failures").forEach(f -> failures.add(f.asText()));
    List<String> warnings = new ArrayList<>();
    v.path("warnings").forEach(w -> warnings.add(w.asText()));
    return new RehearsalVerdict(
        v.path("state").asText("failed"),
        v.path("exit_code").asInt(2),
        v.path("upgrade_passed").asBoolean(),
        v.path("rollback_clean").asBoolean(),
        v.path("restored").asBoolean(),
        failures,
        warnings);
  }

  /**
   * The verdict of the rehearsal whose run directory this is; empty for a run that was not a
   * rehearsal.
   */
  public static Optional<RehearsalVerdict> read(Path runDir) {
    Path f = runDir.resolve("rehearsal.json");
    if (!Files.isRegularFile(f)) return Optional.empty();
    try {
      return Optional.of(fromReport(JSON.readTree(f.toFile())));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
