package io.runbook.step;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a config differs from the one expected, by key path ({@code $.auth.sudo_mode_secret}): keys
 * it lacks, keys it has on top, and (when asked) values that differ. Objects are compared key by
 * key; lists and scalars are values. A key missing with everything under it is listed once, at its
 * top.
 *
 * @param missing keys of the expected config the actual one lacks
 * @param extra keys of the actual config the expected one does not have
 * @param changed {@code {path, host, template}} for each value that differs; values under a key
 *     whose path names a secret, password, token or key are shown as {@value #MASK}
 */
record ConfigDiff(List<String> missing, List<String> extra, List<Map<String, Object>> changed) {
  static final String MASK = "********";
  private static final Pattern SECRET = Pattern.compile("(?i)secret|passw|token|key|credential");

  static ConfigDiff compare(Object actual, Object expected, boolean values) {
    ConfigDiff d = new ConfigDiff(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    d.walk("$", false, actual, expected, values);
    return new ConfigDiff(List.copyOf(d.missing), List.copyOf(d.extra), List.copyOf(d.changed));
  }

  boolean isEmpty() {
    return missing.isEmpty() && extra.isEmpty() && changed.isEmpty();
  }

  /**
   * {@code 2 missing: $.telemetry, $.auth.sudo_mode_secret; 1 extra: $.services.queue.data_dir}.
   */
  String summary() {
    List<String> parts = new ArrayList<>();
    if (!missing.isEmpty()) parts.add(missing.size() + " missing: " + String.join(", ", missing));
    if (!extra.isEmpty()) parts.add(extra.size() + " extra: " + String.join(", ", extra));
    if (!changed.isEmpty()) {
      parts.add(
          changed.size()
              + " changed: "
              + String.join(", ", changed.stream().map(c -> (String) c.get("path")).toList()));
    }
    return String.join("; ", parts);
  }

  private void walk(String path, boolean secret, Object actual, Object expected, boolean values) {
    if (actual instanceof Map<?, ?> a && expected instanceof Map<?, ?> e) {
      e.forEach(
          (k, v) -> {
            String child = child(path, k);
            if (!a.containsKey(k)) missing.add(child);
            else walk(child, secret || isSecret(k), a.get(k), v, values);
          });
      a.keySet().stream().filter(k -> !e.containsKey(k)).forEach(k -> extra.add(child(path, k)));
    } else if (expected instanceof Map<?, ?> e) {
      // A value where an object is expected has none of its keys.
      e.keySet().forEach(k -> missing.add(child(path, k)));
    } else if (actual instanceof Map<?, ?> a) {
      a.keySet().forEach(k -> extra.add(child(path, k)));
    } else if (values && !same(actual, expected)) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("path", path);
      boolean hide = secret || hasSecret(actual) || hasSecret(expected);
      c.put("host", hide ? MASK : actual);
      c.put("template", hide ? MASK : expected);
      changed.add(c);
    }
  }

  private static String child(String path, Object key) {
    return ConfigFiles.appendPath(new StringBuilder(path), String.valueOf(key)).toString();
  }

  private static boolean isSecret(Object key) {
    return SECRET.matcher(String.valueOf(key)).find();
  }

  /**
   * A list of objects may hold a password under a harmless name: {@code users: [{password: ...}]}.
   */
  private static boolean hasSecret(Object value) {
    if (value instanceof Map<?, ?> m) {
      return m.keySet().stream().anyMatch(ConfigDiff::isSecret)
          || m.values().stream().anyMatch(ConfigDiff::hasSecret);
    }
    return value instanceof List<?> l && l.stream().anyMatch(ConfigDiff::hasSecret);
  }

  /** Equal as config values: 8080 and 8080.0 are the same number, whichever parser read them. */
  private static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      try {
        return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
      } catch (NumberFormatException notFinite) {
        return x.toString().equals(y.toString());
      }
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); i++) if (!same(x.get(i), y.get(i))) return false;
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      return x.keySet().equals(y.keySet())
          && x.keySet().stream().allMatch(k -> same(x.get(k), y.get(k)));
    }
    return Objects.equals(a, b);
  }
}
