package io.runbook.rehearsal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.execution.PlannedStep;
import io.runbook.model.Rollout;
import io.runbook.model.StepSpec;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A stable fingerprint of what a run would do, so that {@code apply} can tell whether the plan it
 * is about to run is the one a rehearsal exercised. SHA-256 over canonical JSON (sorted keys) of:
 * for each mode of the targeted hosts (sorted), the forward steps in order (phase, type, name,
 * arguments and every option as written, handlers), the mode's rollback phase, the gate; the
 * runbook's {@code vars}, the {@code -e} variables the plan reads ({@link ExtraVars}), and the
 * rollout policy (serial, max_fail_percentage, on_failure).
 *
 * <p>Steps are hashed as written, before templating: host-specific values (addresses, ports,
 * app_dir per host, the run id) never enter, so a plan rehearsed on two hosts per mode has the hash
 * of the same plan on two hundred. Inventory values are deliberately not covered: they are per
 * host.
 */
public final class PlanHash {
  private static final ObjectMapper CANONICAL =
      new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private PlanHash() {}

  public static String of(Plan plan, Map<String, Object> extraVars) {
    Map<String, Object> modes = new TreeMap<>();
    for (HostPlan h : plan.hosts()) {
      String mode = h.mode() == null ? "-" : h.mode();
      if (modes.containsKey(mode)) continue;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("steps", h.steps().stream().map(PlanHash::step).toList());
      m.put("rollback", h.rollbackPhase().stream().map(PlanHash::step).toList());
      m.put("gate", h.gate().stream().map(PlanHash::step).toList());
      modes.put(mode, m);
    }
    Rollout r = plan.runbook().rollout();
    Map<String, Object> canon = new LinkedHashMap<>();
    canon.put("modes", modes);
    canon.put("vars", plan.runbook().vars());
    // only the -e values the plan reads: one that changes nothing makes no other plan
    canon.put("extra_vars", ExtraVars.read(plan, extraVars));
    canon.put(
        "rollout",
        Map.of(
            "serial",
            r.serial().stream().map(String::valueOf).toList(),
            "max_fail_percentage",
            r.maxFailPercentage(),
            "on_failure",
            r.onFailure().key()));
    canon.put("timeout", plan.runbook().timeout().toString());
    canon.put("become", plan.runbook().become());
    try {
      byte[] json = CANONICAL.writeValueAsBytes(canon);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (NoSuchAlgorithmException | JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, Object> step(PlannedStep s) {
    Map<String, Object> m = spec(s.spec());
    m.put("phase", s.phase().key());
    return m;
  }

  private static Map<String, Object> spec(StepSpec s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", s.name());
    m.put("type", s.type());
    m.put("args", s.args());
    m.put("when", s.when());
    m.put("register", s.register());
    m.put("retries", s.retries());
    m.put("delay", String.valueOf(s.delay()));
    m.put("until", s.until());
    m.put("timeout", String.valueOf(s.timeout()));
    m.put("become", s.become());
    m.put("become_user", s.becomeUser());
    m.put("changed_when", s.changedWhen());
    m.put("failed_when", s.failedWhen());
    m.put("ignore_errors", s.ignoreErrors());
    m.put("idempotent", s.idempotent());
    if (s.delegateTo() != null) m.put("delegate_to", s.delegateTo());
    if (s.loop() != null) {
      m.put("loop", s.loop());
      m.put("loop_var", s.loopVar());
    }
    if (s.rollback() != null) {
      List<Object> handlers = new ArrayList<>();
      for (StepSpec h : s.rollback()) handlers.add(spec(h));
      m.put("rollback", handlers);
    }
    return m;
  }

  /** The first 8 hex digits, as messages show it. */
  public static String shortForm(String hash) {
    return hash.substring(0, Math.min(8, hash.length()));
  }
}
