package io.runbook.report;

import io.runbook.result.Status;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Escaping, colours and the few formats the page shares. Everything from a journal goes through
 * {@link #esc}.
 */
final class Html {
  static final String OK = "#2f9e44";
  static final String CHANGED = "#1c7ed6";
  static final String FAILED = "#e03131";
  static final String SKIPPED = "#adb5bd";
  static final String UNDO = "#f76707";
  static final String UNDO_FAILED = "#ae3ec9";
  static final String IN_FLIGHT = "#845ef7";
  static final String GATE = "#fab005";

  /** The timeline's frame, a colour used nowhere else: a screenshot finds the timeline by it. */
  static final String FRAME = "#5c677d";

  private static final DateTimeFormatter UTC =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  private Html() {}

  /**
   * Text for an element or a quoted attribute: {@code <script>} from a step's output stays text.
   */
  static String esc(Object value) {
    if (value == null) return "";
    String s = value.toString();
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> {
          // control characters (a terminal's escapes in a step's output) would make the page
          // invalid XML in SVG
          if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') out.append('\uFFFD');
          else out.append(c);
        }
      }
    }
    return out.toString();
  }

  /** The fill of a step's bar. */
  static String colour(RunReport.Step s) {
    if (s.inFlight()) return IN_FLIGHT;
    if (s.kind() == RunReport.Kind.ROLLBACK) return s.failed() ? UNDO_FAILED : UNDO;
    return colour(s.status());
  }

  static String colour(Status status) {
    return switch (status) {
      case OK -> OK;
      case CHANGED -> CHANGED;
      case FAILED -> FAILED;
      case SKIPPED -> SKIPPED;
    };
  }

  /** A CSS class for a host or run outcome label ("rolled back" → {@code o-rolled-back}). */
  static String outcomeClass(String label) {
    return "o-"
        + (label == null ? "unknown" : label.toLowerCase(Locale.ROOT).replaceAll("[^a-z]+", "-"));
  }

  static String status(RunReport.Step s) {
    if (s.inFlight()) return "running";
    return s.status().name().toLowerCase(Locale.ROOT);
  }

  /** {@code 250ms}, {@code 1.25s}, {@code 42s}, {@code 3m05s}, {@code 1h02m}. */
  static String duration(long ms) {
    if (ms < 1000) return ms + "ms";
    if (ms < 10_000) return trim(String.format(Locale.ROOT, "%.2f", ms / 1000.0)) + "s";
    long s = Math.round(ms / 1000.0);
    if (s < 60) return s + "s";
    if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }

  private static String trim(String decimal) {
    return decimal.replaceAll("\\.?0+$", "");
  }

  static String time(Instant at) {
    return at == null ? "—" : UTC.format(at);
  }
}
