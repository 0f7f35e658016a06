package io.runbook.inventory;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ansible's host ranges: {@code web[01:03]} is web01, web02 and web03; {@code db-[a:c]} is db-a to
 * db-c; {@code [1:9:2]} steps by 2. A name may hold several ranges.
 */
final class HostRanges {
  private static final Pattern RANGE =
      Pattern.compile("([0-9]*|[a-zA-Z]):([0-9]+|[a-zA-Z])(?::([0-9]+))?");
  // One bad key must not be able to make a million hosts.
  static final int LIMIT = 10_000;

  private HostRanges() {}

  /**
   * The host names {@code key} stands for.
   *
   * @throws IllegalArgumentException with a message that says how to write the range
   */
  static List<String> expand(String key) {
    List<String> out = new ArrayList<>();
    expand(key, out);
    return out;
  }

  private static void expand(String name, List<String> out) {
    int open = name.indexOf('[');
    int close = name.indexOf(']');
    if (open < 0 && close < 0) {
      out.add(name);
      return;
    }
    if (open < 0 || close < open) throw new IllegalArgumentException("has a ']' without '['");
    String head = name.substring(0, open);
    String tail = name.substring(close + 1);
    Matcher m = RANGE.matcher(name.substring(open + 1, close));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "has an invalid range '"
              + name.substring(open, close + 1)
              + "': write [01:10] (numbers; a leading zero pads to the same width), [a:f] (letters) or [1:10:2] (a step)");
    }
    String begin = m.group(1).isEmpty() ? "0" : m.group(1);
    String end = m.group(2);
    int step = m.group(3) == null ? 1 : Integer.parseInt(m.group(3));
    boolean letters = Character.isLetter(begin.charAt(0));
    if (letters != Character.isLetter(end.charAt(0))
        || step == 0
        || (letters
            && Character.isUpperCase(begin.charAt(0)) != Character.isUpperCase(end.charAt(0)))) {
      throw new IllegalArgumentException(
          "has an invalid range '"
              + name.substring(open, close + 1)
              + "': both ends must be numbers or letters of the same case, and the step at least 1");
    }
    int from = letters ? begin.charAt(0) : Integer.parseInt(begin);
    int to = letters ? end.charAt(0) : Integer.parseInt(end);
    if (from > to) {
      throw new IllegalArgumentException(
          "has a range '"
              + name.substring(open, close + 1)
              + "' that counts down: put the smaller end first");
    }
    int width = !letters && begin.length() > 1 && begin.startsWith("0") ? begin.length() : 0;
    for (int i = from; i <= to; i += step) {
      String value =
          letters
              ? String.valueOf((char) i)
              : width > 0 ? String.format("%0" + width + "d", i) : String.valueOf(i);
      expand(head + value + tail, out);
      if (out.size() > LIMIT)
        throw new IllegalArgumentException("expands to more than " + LIMIT + " hosts");
    }
  }
}
