package io.runbook.execution;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits hosts into rollout batches by {@code serial} sizes (counts or percentages; the last
 * repeats).
 */
public final class Batches {
  private Batches() {}

  public static <T> List<List<T>> split(List<T> hosts, List<Object> serial) {
    List<List<T>> out = new ArrayList<>();
    if (hosts.isEmpty()) return out;
    if (serial.isEmpty()) {
      out.add(List.copyOf(hosts));
      return out;
    }
    int i = 0;
    int step = 0;
    while (i < hosts.size()) {
      int size = size(serial.get(Math.min(step++, serial.size() - 1)), hosts.size());
      int end = Math.min(hosts.size(), i + size);
      out.add(List.copyOf(hosts.subList(i, end)));
      i = end;
    }
    return out;
  }

  /** A count, or a percentage of all targeted hosts rounded down, never less than one host. */
  static int size(Object spec, int total) {
    String s = String.valueOf(spec).strip();
    if (s.endsWith("%")) {
      int pct = Integer.parseInt(s.substring(0, s.length() - 1));
      return Math.max(1, total * pct / 100);
    }
    return Math.max(1, Integer.parseInt(s));
  }

  /** Parses {@code --serial 1,25%,100%}. */
  public static List<Object> parse(String csv) {
    List<Object> out = new ArrayList<>();
    for (String part : csv.split(",", -1)) {
      String p = part.strip();
      if (!p.matches("[1-9][0-9]*|([1-9][0-9]?|100)%")) {
        throw new IllegalArgumentException(
            "'" + p + "' is not a batch size: use a count (2) or a percentage (25%)");
      }
      out.add(p.endsWith("%") ? p : (Object) Long.parseLong(p));
    }
    return out;
  }
}
