package io.runbook.yaml;

/** One thing wrong with the input, at a location. */
public record Problem(Location location, String message) implements Comparable<Problem> {
  @Override
  public String toString() {
    return location + ": " + message;
  }

  @Override
  public int compareTo(Problem o) {
    int c = location.file().compareTo(o.location.file());
    if (c != 0) return c;
    c = Integer.compare(location.line(), o.location.line());
    if (c != 0) return c;
    c = Integer.compare(location.column(), o.location.column());
    return c != 0 ? c : message.compareTo(o.message);
  }
}
