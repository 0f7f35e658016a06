package io.runbook.rehearsal;

import io.runbook.PrivateFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last rehearsal of each runbook, kept under {@code <state-dir>/rehearsals/}, so that {@code apply} and
 * {@code plan} can say whether the plan they are about to run was rehearsed.
 */
public final class Rehearsals {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Rehearsals() {}

  static Path file(Path stateDir, Path runbook) {
    try {
      String abs = runbook.toAbsolutePath().normalize().toString();
      String key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(abs.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
      return stateDir.resolve("rehearsals").resolve(key + ".json");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void record(Path stateDir, Path runbook, String planHash, Instant at, String runId, boolean passed)
      throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runbook", runbook.toAbsolutePath().normalize().toString());
    m.put("plan_hash", planHash);
    m.put("at", at.toString());
    m.put("run_id", runId);
    m.put("passed", passed);
    Path f = file(stateDir, runbook);
    PrivateFiles.directoryBelow(stateDir, f.getParent());
    PrivateFiles.write(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
  }

  /**
   * One line for {@code apply} and {@code plan}: "rehearsed on DATE, passed (plan abcd1234, run ID)", or a
   * warning that the plan changed since, or that it failed, or was never rehearsed.
   */
  public static String status(Path stateDir, Path runbook, String planHash) {
    Path f = file(stateDir, runbook);
    if (!Files.isRegularFile(f)) {
      return "warning: never rehearsed (plan " + PlanHash.shortForm(planHash) + "): run 'runbook rehearse' first";
    }
    try {
      JsonNode n = JSON.readTree(f.toFile());
      String date = n.path("at").asText().replace('T', ' ').replaceFirst("\\.\\d+Z$", "Z");
      String run = n.path("run_id").asText();
      if (!n.path("plan_hash").asText().equals(planHash)) {
        return "warning: plan changed since the rehearsal on " + date + " (rehearsed plan "
            + PlanHash.shortForm(n.path("plan_hash").asText()) + ", now " + PlanHash.shortForm(planHash)
            + "): rehearse again";
      }
      if (!n.path("passed").asBoolean()) {
        return "warning: the rehearsal on " + date + " FAILED (plan " + PlanHash.shortForm(planHash) + ", run "
            + run + "): see " + stateDir.resolve("runs").resolve(run).resolve("rehearsal.md");
      }
      return "rehearsed on " + date + ", passed (plan " + PlanHash.shortForm(planHash) + ", run " + run + ")";
    } catch (IOException e) {
      return "warning: cannot read the rehearsal record " + f + ": " + e.getMessage();
    }
  }
}
