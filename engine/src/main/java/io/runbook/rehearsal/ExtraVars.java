package io.runbook.rehearsal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.execution.PlannedStep;
import io.runbook.template.Templates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which {@code -e} variables the plan reads: those that change nothing (no step, handler, gate,
 * variable value, inventory value, local template file of the targeted hosts' modes or the
 * rehearsal section names them) are a warning for the operator and are left out of the plan hash,
 * so an {@code -e} that changes nothing does not make another plan. A textual test: a name that
 * appears as a word is taken as read (it errs on "read").
 */
public final class ExtraVars {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_FILE = 1 << 20;

  private ExtraVars() {}

  /** The names of {@code extraVars} that the plan reads, in their order. */
  public static Map<String, Object> read(Plan plan, Map<String, Object> extraVars) {
    if (extraVars == null || extraVars.isEmpty()) return Map.of();
    String text = corpus(plan);
    Map<String, Object> out = new LinkedHashMap<>();
    extraVars.forEach(
        (k, v) -> {
          if (Pattern.compile("(?<![A-Za-z0-9_])" + Pattern.quote(k) + "(?![A-Za-z0-9_])")
              .matcher(text)
              .find()) out.put(k, v);
        });
    return out;
  }

  /** The names of {@code extraVars} that nothing in the plan reads. */
  public static List<String> unread(Plan plan, Map<String, Object> extraVars) {
    Map<String, Object> read = read(plan, extraVars);
    return extraVars.keySet().stream().filter(k -> !read.containsKey(k)).toList();
  }

  /** Everything of the plan a template could read a variable from, as text. */
  private static String corpus(Plan plan) {
    StringBuilder sb = new StringBuilder();
    Set<String> modes = new LinkedHashSet<>();
    try {
      sb.append(JSON.writeValueAsString(new ArrayList<>(plan.runbook().vars().values())));
      // the rehearsal section's templates (rehearsal.vars, start, health) read variables too
      if (plan.runbook().document().root() instanceof Map<?, ?> root
          && root.get("rehearsal") != null) {
        sb.append(JSON.writeValueAsString(root.get("rehearsal")));
      }
      for (HostPlan h : plan.hosts()) {
        sb.append(JSON.writeValueAsString(new ArrayList<>(h.host().vars().values())));
        if (!modes.add(h.mode() == null ? "-" : h.mode())) continue;
        for (List<PlannedStep> steps : List.of(h.steps(), h.rollbackPhase(), h.gate())) {
          for (PlannedStep s : steps) step(sb, plan.runbook().baseDir(), h, s);
        }
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return sb.toString();
  }

  private static void step(StringBuilder sb, Path baseDir, HostPlan h, PlannedStep s)
      throws JsonProcessingException {
    sb.append(JSON.writeValueAsString(PlanHash.step(s)));
    for (PlannedStep handler : s.handlers()) step(sb, baseDir, h, handler);
    // a local file a step renders (template src, schema): its text reads variables too
    if (s.spec().args() instanceof Map<?, ?> args) {
      for (Object v : args.values()) {
        if (!(v instanceof String str) || str.contains("\n") || str.length() > 500) continue;
        try {
          Path local = baseDir.resolve(Templates.render(str, "path", h.vars())).normalize();
          if (Files.isRegularFile(local) && Files.size(local) <= MAX_FILE)
            sb.append(Files.readString(local));
        } catch (RuntimeException | IOException notAFile) {
          // not a path, or not one this controller has: nothing more to read
        }
      }
    }
  }
}
