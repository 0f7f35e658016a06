package io.runbook.execution;

import io.runbook.step.Step;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The LIFO stack of a host's undo work. Each completed forward step pushes one entry: its explicit
 * {@code rollback:} handlers, or else the step type's automatic undo; steps with neither push nothing.
 */
final class RollbackStack {

  /**
   * @param forStep the forward step this entry undoes
   * @param handlers explicit handlers, in the order written (empty when {@code undo} is used)
   * @param undo the automatic inverse, or null
   * @param vars the host's variables as they were when the step completed, for rendering handlers
   */
  record Entry(PlannedStep forStep, List<PlannedStep> handlers, Step.Undo undo, Map<String, Object> vars) {
    List<String> describe() {
      List<String> out = new ArrayList<>();
      if (undo != null) out.add(forStep.name() + " ← " + undo.description());
      for (PlannedStep h : handlers) out.add(forStep.name() + " ← " + h.name());
      return out;
    }
  }

  private final Deque<Entry> entries = new ArrayDeque<>();

  void push(Entry e) {
    if (e.undo() != null || !e.handlers().isEmpty()) entries.push(e);
  }

  Entry pop() {
    return entries.pollFirst();
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Everything still to undo, in the order it will run. */
  List<String> describe() {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) out.addAll(e.describe());
    return out;
  }
}
