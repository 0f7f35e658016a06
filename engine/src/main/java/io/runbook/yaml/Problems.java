package io.runbook.yaml;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Collects every problem of the input before anything runs; {@link #throwIfAny()} reports them all.
 */
public final class Problems {
  private final List<Problem> list = new ArrayList<>();

  public void add(Location location, String message) {
    list.add(new Problem(location, message));
  }

  public void addAll(Problems other) {
    list.addAll(other.list);
  }

  public boolean isEmpty() {
    return list.isEmpty();
  }

  public List<Problem> sorted() {
    return List.copyOf(new TreeSet<>(list));
  }

  public void throwIfAny() {
    if (!list.isEmpty()) throw new InvalidInputException(sorted());
  }

  /** Every problem found in the input, sorted by file and position. */
  public static final class InvalidInputException extends RunbookException {
    private final List<Problem> problems;

    public InvalidInputException(List<Problem> problems) {
      super(ErrorCode.INVALID_INPUT, render(problems));
      this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
      return problems;
    }

    private static String render(List<Problem> problems) {
      StringBuilder sb = new StringBuilder();
      for (Problem p : problems) {
        if (sb.length() > 0) sb.append('\n');
        sb.append(p);
      }
      return sb.toString();
    }
  }
}
