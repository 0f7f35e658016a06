package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.PrivateFiles;
import io.runbook.model.Runbook;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every rehearsal's record, one file per rehearsal under {@code <state-dir>/rehearsals/}, so that
 * {@code apply} and {@code plan} can say whether the plan they are about to run was rehearsed. A
 * record is keyed by what was rehearsed: the runbook, the inventory file and the plan hash (which
 * covers the {@code -e} values); a record of another inventory, or of another plan, never answers
 * for this one.
 */
public final class Rehearsals {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Rehearsals() {}

  static Path dir(Path stateDir) {
    return stateDir.resolve("rehearsals");
  }

  /** The key's parts as records hold them. */
  static String key(Path file) {
    return file.toAbsolutePath().normalize().toString();
  }

  /** The inventory part of the key: every {@code -i} source, in order ({@code a.yaml + b.ini}). */
  static String key(List<Path> inventories) {
    return String.join(" + ", inventories.stream().map(Rehearsals::key).toList());
  }

  /**
   * One rehearsal's record: what was rehearsed (its key: runbook, inventory, plan hash) and its
   * verdict.
   *
   * @param state the verdict's: passed, failed or interrupted
   */
  public record Entry(
      Path runbook,
      List<Path> inventories,
      String planHash,
      Instant at,
      String runId,
      String state,
      List<String> targeted,
      List<String> failures,
      List<String> warnings) {}

  /** Records a finished rehearsal, passed, failed or interrupted. */
  public static void record(
      Path stateDir, Path runbook, List<Path> inventories, RehearsalReport report)
      throws IOException {
    RehearsalVerdict v = report.verdict();
    write(
        stateDir,
        new Entry(
            runbook,
            inventories,
            report.planHash(),
            report.at(),
            report.runId(),
            v.state(),
            report.targeted(),
            v.failures(),
            v.warnings()));
  }

  public static void write(Path stateDir, Entry e) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runbook", key(e.runbook()));
    m.put("inventory", key(e.inventories()));
    m.put("plan_hash", e.planHash());
    m.put("at", e.at().toString());
    m.put("run_id", e.runId());
    m.put("state", e.state());
    m.put("passed", e.state().equals("passed"));
    m.put("targeted_hosts", e.targeted());
    m.put("failures", e.failures());
    m.put("warnings", e.warnings());
    Path f = dir(stateDir).resolve(e.runId() + ".json");
    PrivateFiles.directoryBelow(stateDir, f.getParent());
    PrivateFiles.write(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
  }

  /** Whether the runbook asks to be rehearsed (has a {@code rehearsal:} section). */
  public static boolean declared(Runbook runbook) {
    return runbook.document().root() instanceof Map<?, ?> m && m.containsKey("rehearsal");
  }

  /**
   * One line for {@code apply} and {@code plan} about the newest rehearsal of exactly this runbook,
   * inventory and plan: "rehearsed on DATE, passed (plan abcd1234, run ID)", or a warning that it
   * failed or was interrupted, that the plan changed since the newest rehearsal on this inventory,
   * or that it was never rehearsed; null when it never was and the runbook has no {@code
   * rehearsal:} section.
   */
  public static String status(
      Path stateDir, Path runbook, List<Path> inventories, String planHash, boolean declared) {
    List<JsonNode> mine = new ArrayList<>();
    String rb = key(runbook);
    String inv = key(inventories);
    if (Files.isDirectory(dir(stateDir))) {
      try (Stream<Path> files = Files.list(dir(stateDir))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
          try {
            JsonNode n = JSON.readTree(f.toFile());
            if (n.path("runbook").asText().equals(rb) && n.path("inventory").asText().equals(inv))
              mine.add(n);
          } catch (IOException unreadable) {
            // a record cut short: it answers for nothing
          }
        }
      } catch (IOException e) {
        return "warning: cannot read the rehearsal records in "
            + dir(stateDir)
            + ": "
            + e.getMessage();
      }
    }
    Comparator<JsonNode> newest =
        Comparator.comparing((JsonNode n) -> n.path("at").asText())
            .thenComparing(n -> n.path("run_id").asText());
    JsonNode same =
        mine.stream()
            .filter(n -> n.path("plan_hash").asText().equals(planHash))
            .max(newest)
            .orElse(null);
    String plan = PlanHash.shortForm(planHash);
    if (same == null) {
      JsonNode latest = mine.stream().max(newest).orElse(null);
      if (latest != null) {
        return "warning: plan changed since the rehearsal on "
            + date(latest)
            + " (rehearsed plan "
            + PlanHash.shortForm(latest.path("plan_hash").asText())
            + ", now "
            + plan
            + "): rehearse again";
      }
      return declared
          ? "warning: never rehearsed with this inventory (plan "
              + plan
              + "): run 'runbook rehearse' first"
          : null;
    }
    String run = same.path("run_id").asText();
    String state = same.path("state").asText(same.path("passed").asBoolean() ? "passed" : "failed");
    if (state.equals("passed")) {
      return "rehearsed on "
          + date(same)
          + ", passed (plan "
          + plan
          + ", run "
          + run
          + ")"
          + (same.path("warnings").isEmpty() ? "" : "; warnings: " + text(same.path("warnings")));
    }
    return "warning: the rehearsal on "
        + date(same)
        + " "
        + (state.equals("interrupted") ? "was INTERRUPTED" : "FAILED")
        + " (plan "
        + plan
        + ", run "
        + run
        + ")"
        + (same.path("failures").isEmpty() ? "" : ": " + text(same.path("failures")))
        + "; see "
        + stateDir.resolve("runs").resolve(run).resolve("rehearsal.md");
  }

  private static String date(JsonNode n) {
    return n.path("at").asText().replace('T', ' ').replaceFirst("\\.\\d+Z$", "Z");
  }

  private static String text(JsonNode list) {
    List<String> l = new ArrayList<>();
    list.forEach(x -> l.add(x.asText()));
    return String.join("; ", l);
  }
}
