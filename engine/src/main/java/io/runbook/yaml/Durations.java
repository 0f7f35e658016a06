package io.runbook.yaml;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in runbooks: an integer of seconds, or {@code 250ms}, {@code 30s}, {@code
 * 5m}, {@code 1h}.
 */
public final class Durations {
  private static final Pattern FORM = Pattern.compile("([0-9]+)(ms|s|m|h)?");

  private Durations() {}

  /** Parses a duration, or returns null when the value is not one (the schema reports why). */
  public static Duration parse(Object value) {
    if (value instanceof Number n) return Duration.ofSeconds(n.longValue());
    if (!(value instanceof String s)) return null;
    Matcher m = FORM.matcher(s.strip());
    if (!m.matches()) return null;
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException tooLong) {
      return null;
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /** {@code 1m30s}, {@code 250ms}: the short form people write. */
  public static String format(Duration d) {
    if (d.toMillis() < 1000) return d.toMillis() + "ms";
    long s = d.toSeconds();
    if (s < 60) return s + "s";
    long m = s / 60;
    return s % 60 == 0 ? m + "m" : m + "m" + (s % 60) + "s";
  }
}
