package io.runbook.secret;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.model.Runbook;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The values a run must never show: those of variables whose name says they are secret, that the
 * runbook marks secret ({@code secrets:}) or that its rehearsal replaces ({@code
 * rehearsal.redact}), whether they come from the inventory, the runbook or {@code -e}. Collected in
 * one place so the journal, {@code --json}, the console, {@code plan} and the report mask the same
 * values; {@link #addValues} takes values known to be secret from elsewhere (a decrypted vault).
 */
public final class SecretValues {
  /** Shorter values are not masked: masking "on" or "1" would garble every line that holds them. */
  public static final int MIN_LENGTH = 4;

  private static final Pattern NAME =
      Pattern.compile("(?i).*(secret|password|passwd|token|api_?key|private_?key).*");
  // ansible_ssh_private_key_file and the like name a file, not its contents
  private static final Pattern FILE_NAME = Pattern.compile("(?i).*_(file|path)$");

  private final Set<String> values = new LinkedHashSet<>();
  private final Set<String> tooShort = new TreeSet<>();

  /**
   * Whether a variable named {@code name} holds a secret: by its name, or because {@code declared}
   * lists it.
   */
  public static boolean isSecretName(String name, Collection<String> declared) {
    if (declared.contains(name)) return true;
    return NAME.matcher(name).matches() && !FILE_NAME.matcher(name).matches();
  }

  /**
   * Every secret of a planned run: each host's variables (inventory, runbook, {@code -e},
   * templated).
   */
  public static SecretValues of(Plan plan) {
    return new SecretValues().addPlan(plan);
  }

  /** Adds the secrets of another planned run (a rehearsal masks production's and its own). */
  public SecretValues addPlan(Plan plan) {
    Collection<String> declared = declared(plan.runbook());
    addValues(plan.secretValues()); // vaulted values, whatever their variable is called
    List<HostPlan> all = new ArrayList<>(plan.hosts());
    if (plan.once() != null) all.add(plan.once());
    for (HostPlan h : all) {
      addVars(h.host().vars(), declared);
      addVars(h.vars(), declared);
    }
    return this;
  }

  /**
   * The names a runbook declares secret: {@code secrets:} and every {@code redact:} of its
   * rehearsal.
   */
  @SuppressWarnings("unchecked")
  public static Collection<String> declared(Runbook runbook) {
    Set<String> names = new LinkedHashSet<>(runbook.secrets());
    if (runbook.document() != null
        && runbook.document().root() instanceof Map<?, ?> root
        && root.get("rehearsal") instanceof Map<?, ?> r) {
      collectRedact((Map<String, Object>) r, names);
    }
    return names;
  }

  @SuppressWarnings("unchecked")
  private static void collectRedact(Map<String, Object> rehearsal, Set<String> names) {
    if (rehearsal.get("redact") instanceof List<?> l) l.forEach(n -> names.add(String.valueOf(n)));
    if (rehearsal.get("modes") instanceof Map<?, ?> modes) {
      modes
          .values()
          .forEach(
              m -> {
                if (m instanceof Map<?, ?> mm) collectRedact((Map<String, Object>) mm, names);
              });
    }
  }

  /** Adds the values of the secret variables among {@code vars}, looking into maps and lists. */
  public SecretValues addVars(Map<String, ?> vars, Collection<String> declared) {
    vars.forEach((k, v) -> add(k, v, declared, isSecretName(k, declared)));
    return this;
  }

  /** Adds values known to be secret (a decrypted vault's), whatever their variable is called. */
  public SecretValues addValues(Collection<?> secretValues) {
    secretValues.forEach(v -> add("(value)", v, List.of(), true));
    return this;
  }

  private void add(String name, Object value, Collection<String> declared, boolean secret) {
    if (value instanceof Map<?, ?> m) {
      m.forEach(
          (k, v) ->
              add(
                  String.valueOf(k),
                  v,
                  declared,
                  secret || isSecretName(String.valueOf(k), declared)));
    } else if (value instanceof Collection<?> c) {
      c.forEach(v -> add(name, v, declared, secret));
    } else if (secret && (value instanceof String || value instanceof Number)) {
      String s = String.valueOf(value);
      if (s.isEmpty()) return;
      if (s.length() < MIN_LENGTH) {
        tooShort.add(name);
        return;
      }
      values.add(s);
      // the same value as it appears inside a JSON string, a single-quoted shell word and a URL
      values.add(new String(JsonStringEncoder.getInstance().quoteAsString(s)));
      values.add(s.replace("'", "'\\''"));
      String url = URLEncoder.encode(s, StandardCharsets.UTF_8);
      values.add(url);
      values.add(url.replace("+", "%20"));
    }
  }

  /**
   * Names of secret variables whose values are too short to mask (for a warning; never the values).
   */
  public List<String> tooShort() {
    return List.copyOf(tooShort);
  }

  public Redactor redactor() {
    return new Redactor(new ArrayList<>(values));
  }
}
