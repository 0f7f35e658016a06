package io.runbook.execution;

import io.runbook.step.Step;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The LIFO stack of a host's undo work. Each completed forward step pushes one entry: its explicit
 * {@code rollback:} handlers, or else the step type's automatic undo; steps with neither push
 * nothing.
 */
final class RollbackStack {

  /**
   * @param forStep the forward step this entry undoes
   * @param handlers explicit handlers, in the order written (empty when {@code undo} is used)
   * @param undo the automatic inverse, or null
   * @param vars the host's variables as they were when the step completed, for rendering handlers
   *     (with the loop variable of its item, for a looped step)
   * @param iteration the 1-based item of a looped step (each item is undone on its own), or 0
   */
  record Entry(
      PlannedStep forStep,
      List<PlannedStep> handlers,
      Step.Undo undo,
      Map<String, Object> vars,
      int iteration) {
    Entry(
        PlannedStep forStep, List<PlannedStep> handlers, Step.Undo undo, Map<String, Object> vars) {
      this(forStep, handlers, undo, vars, 0);
    }

    /**
     * The undo work's key in the journal: {@code 3:auto} for the automatic undo of forward step 3,
     * {@code 3.2:auto} for that of its second item when it is looped.
     */
    String autoKey() {
      return step() + ":auto";
    }

    /** {@code 3:1} for the first handler of forward step 3 ({@code 3.2:1} for its second item). */
    String handlerKey(int i) {
      return step() + ":" + (i + 1);
    }

    private String step() {
      return forStep.index() + (iteration > 0 ? "." + iteration : "");
    }

    /** The step's name as its item ran: {@code Seed users (item=bob)}. */
    String name() {
      return HostSteps.itemName(forStep, vars, iteration);
    }

    /** What is left to undo, given the undo work already done. */
    List<String> describe(Set<String> done) {
      List<String> out = new ArrayList<>();
      String name = name(); // with the values registered by then, not ⟨placeholders⟩
      if (undo != null && !done.contains(autoKey())) out.add(name + " ← " + undo.description());
      for (int i = 0; i < handlers.size(); i++) {
        if (!done.contains(handlerKey(i)))
          out.add(name + " ← " + HostSteps.liveName(handlers.get(i), vars));
      }
      return out;
    }
  }

  private final Deque<Entry> entries = new ArrayDeque<>();

  /**
   * Pushes {@code e} unless it has nothing left to undo (per {@code done}, the undo work already
   * done).
   */
  void push(Entry e, Set<String> done) {
    if (!e.describe(done).isEmpty()) entries.push(e);
  }

  Entry pop() {
    return entries.pollFirst();
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Everything still to undo, in the order it will run. */
  List<String> describe(Set<String> done) {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) out.addAll(e.describe(done));
    return out;
  }
}
