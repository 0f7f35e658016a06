package io.runbook.rehearsal;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Production secrets never reach a rehearsal host: every variable whose name says it is a secret
 * (or that {@code rehearsal.redact} names) gets a generated value of the same kind instead. Reports
 * list the names, never a value.
 */
public final class Secrets {
  static final Pattern SECRET = Pattern.compile("(?i).*(secret|password|passwd|token|api_?key).*");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Secrets() {}

  public record Redacted(Map<String, Object> vars, List<String> names) {}

  public static boolean isSecret(String name, List<String> declared) {
    if (declared.contains(name)) return true;
    return !name.startsWith("ansible_") && SECRET.matcher(name).matches();
  }

  public static Redacted redact(Map<String, Object> vars, List<String> declared) {
    Map<String, Object> out = new LinkedHashMap<>();
    TreeSet<String> names = new TreeSet<>();
    vars.forEach(
        (k, v) -> {
          if (v != null
              && isSecret(k, declared)
              && !(v instanceof Map<?, ?>)
              && !(v instanceof List<?>)) {
            names.add(k);
            out.put(k, generated(v));
          } else {
            out.put(k, v);
          }
        });
    return new Redacted(out, List.copyOf(names));
  }

  /** A random value at least as long as the original (schemas often ask for a minimum length). */
  static Object generated(Object original) {
    if (original instanceof Number) return (long) RANDOM.nextInt(1_000_000);
    int len = Math.max(32, String.valueOf(original).length());
    byte[] b = new byte[(len + 1) / 2];
    RANDOM.nextBytes(b);
    return ("rehearsal" + HexFormat.of().formatHex(b)).substring(0, len);
  }
}
