package io.runbook.yaml;

/** A place in an input file, 1-based, printed as {@code file:line:col}. */
public record Location(String file, int line, int column) {
  public static Location of(String file) {
    return new Location(file, 0, 0);
  }

  @Override
  public String toString() {
    return line <= 0 ? file : file + ":" + line + ":" + column;
  }
}
