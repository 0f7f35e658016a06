package io.runbook.execution;

import io.runbook.event.EventListener;
import io.runbook.event.StepCheckpoint;
import io.runbook.model.Phase;
import io.runbook.model.StepSpec;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import io.runbook.template.Unknown;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs one step of a host where it runs (the host, or its delegate), once or once per item of its
 * loop, with its events and its count: forward steps, the gate, and rollback handlers.
 */
final class HostSteps {
  /**
   * The variable a delegated step sees naming the host it runs on ({@code inventory_hostname} stays
   * the target).
   */
  static final String DELEGATE_HOST = "delegate_host";

  private final String host;
  private final EventListener events;
  private final HostLink link;
  private final Tally tally;

  /** An item of a looped forward step that passed, with its variables: its undo joins the stack. */
  @FunctionalInterface
  interface ItemDone {
    void accept(StepRunner.Outcome outcome, Map<String, Object> itemVars, int iteration);
  }

  HostSteps(String host, EventListener events, HostLink link, Tally tally) {
    this.host = host;
    this.events = events;
    this.link = link;
    this.tally = tally;
  }

  /**
   * A forward step.
   *
   * @param onItem for a looped step: called for each item that passed, to push its undo
   */
  StepRunner.Outcome forward(PlannedStep step, Map<String, Object> scope, ItemDone onItem) {
    return execute(step, false, null, scope, null, Set.of(), onItem);
  }

  /** A step of the rollout's gate. */
  StepRunner.Outcome gate(PlannedStep step, Map<String, Object> scope) {
    return execute(step, false, null, scope, null, Set.of(), null);
  }

  /**
   * A rollback handler, the undo work {@code undoKey}; the items of a looped one that are in {@code
   * undone} are skipped, and those that pass are added to it.
   */
  StepRunner.Outcome handler(
      PlannedStep h,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      Set<String> undone) {
    return execute(h, true, forStep, scope, undoKey, undone, null);
  }

  /**
   * Runs a step, once or, when looped, once per item: each item is its own step in the journal
   * (with its own undo key, {@code undoKey.i}, for a handler), the first failing item ends the
   * loop, and {@code register} gets {@code {results: [...]}}. A looped forward step ends with a
   * summary event, which is what {@code resume} reads as the step done.
   */
  private StepRunner.Outcome execute(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      Set<String> undone,
      ItemDone onItem) {
    StepSpec spec = step.spec();
    if (spec.loop() == null) return once(step, rollback, forStep, scope, undoKey, 0);
    long t0 = System.nanoTime();
    List<Object> items;
    try {
      items = StepRunner.loopItems(spec, scope);
    } catch (Templates.TemplateError e) {
      return shown(
          step,
          rollback,
          forStep,
          scope,
          undoKey,
          StepResult.failed("template: " + e.getMessage()));
    }
    if (items.isEmpty())
      return shown(
          step, rollback, forStep, scope, undoKey, StepResult.skipped("loop has no items"));
    List<Map<String, Object>> results = new ArrayList<>();
    boolean anyChanged = false;
    boolean allSkipped = true;
    boolean lost = false;
    String failure = null;
    for (int i = 1; i <= items.size(); i++) {
      String key = undoKey == null ? null : undoKey + "." + i;
      if (key != null && undone.contains(key)) continue; // this item was undone already (resume)
      Map<String, Object> iv = new LinkedHashMap<>(scope);
      iv.put(spec.loopVar(), items.get(i - 1));
      StepRunner.Outcome o = once(step, rollback, forStep, iv, key, i);
      StepResult r = o.result();
      Map<String, Object> reg = new LinkedHashMap<>(r.registered());
      reg.put("item", items.get(i - 1));
      reg.put(spec.loopVar(), items.get(i - 1));
      results.add(reg);
      boolean passed = !o.lost() && (!r.failed() || spec.ignoreErrors());
      if (passed && onItem != null && r.status() != Status.SKIPPED) onItem.accept(o, iv, i);
      if (passed && key != null) undone.add(key);
      anyChanged |= r.changed();
      allSkipped &= r.status() == Status.SKIPPED;
      if (!passed) {
        lost = o.lost();
        failure =
            "item "
                + i
                + " ("
                + spec.loopVar()
                + "="
                + label(items.get(i - 1))
                + "): "
                + r.message();
        break;
      }
    }
    Status status =
        failure != null
            ? Status.FAILED
            : anyChanged ? Status.CHANGED : allSkipped ? Status.SKIPPED : Status.OK;
    StepResult all =
        new StepResult(
            status,
            null,
            null,
            null,
            failure,
            Map.of("results", results),
            Duration.ofNanos(System.nanoTime() - t0).toMillis(),
            1);
    if (spec.register() != null) scope.put(spec.register(), all.registered());
    if (!rollback && step.index() > 0) {
      events.on(
          StepEvents.of(host, step, liveName(step, scope), false, forStep, null, 0, null)
              .loopFinished(spec.register(), all));
    }
    return new StepRunner.Outcome(all, Optional.empty(), lost);
  }

  /**
   * A step that did not get to run (its loop is empty, or cannot be evaluated), shown as one entry.
   */
  private StepRunner.Outcome shown(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      StepResult r) {
    StepEvents shown =
        StepEvents.of(host, step, liveName(step, scope), rollback, forStep, undoKey, 0, null);
    events.on(shown.started());
    if (!rollback && step.phase() != Phase.GATE) tally.count(r);
    events.on(shown.finished(step.spec().register(), r));
    if (step.spec().register() != null) scope.put(step.spec().register(), r.registered());
    return new StepRunner.Outcome(r, Optional.empty());
  }

  /**
   * Runs a step, or one item of a looped step ({@code iteration} > 0), where it is delegated to.
   */
  private StepRunner.Outcome once(
      PlannedStep step,
      boolean rollback,
      String forStep,
      Map<String, Object> scope,
      String undoKey,
      int iteration) {
    String name = itemName(step, scope, iteration);
    HostLink.Where w = link.where(step.spec(), scope);
    StepEvents shown =
        StepEvents.of(host, step, name, rollback, forStep, undoKey, iteration, w.delegate());
    events.on(shown.started());
    StepRunner.Outcome o;
    if (w.problem() != null) {
      o = new StepRunner.Outcome(StepResult.failed(w.problem()), Optional.empty());
    } else {
      // A forward step journals how to undo it before it changes the host (see Step.Undo and
      // StepContext).
      Consumer<Map<String, Object>> checkpoint =
          rollback || step.index() <= 0
              ? data -> {}
              : data ->
                  events.on(new StepCheckpoint(Instant.now(), host, step.index(), data, iteration));
      boolean had = scope.containsKey(DELEGATE_HOST);
      Object before = scope.get(DELEGATE_HOST);
      if (w.delegate() != null) scope.put(DELEGATE_HOST, w.delegate());
      try {
        o = w.runner().run(host, step.spec(), step.step(), scope, checkpoint);
      } finally {
        if (had) scope.put(DELEGATE_HOST, before);
        else scope.remove(DELEGATE_HOST);
      }
      if (o.lost() && w.delegate() != null) {
        // the delegate's connection, not this host's: a later step (or the undo) connects again
        link.dropDelegate(w.delegate());
      }
    }
    StepResult r = o.result();
    if (!rollback && step.phase() != Phase.GATE) tally.count(r);
    events.on(shown.finished(step.spec().register(), r));
    return o;
  }

  /**
   * The name of a step, or of one item of a looped step: {@code Seed users (item=bob)}, unless the
   * name already shows the item ({@code Seed [=item]}).
   */
  static String itemName(PlannedStep step, Map<String, Object> scope, int iteration) {
    String name = liveName(step, scope);
    if (iteration <= 0) return name;
    String label = label(scope.get(step.spec().loopVar()));
    return name.contains(label) ? name : name + " (" + step.spec().loopVar() + "=" + label + ")";
  }

  private static String label(Object item) {
    String s = String.valueOf(item).replaceAll("\\s+", " ").strip();
    return s.length() > 40 ? s.substring(0, 39) + "…" : s;
  }

  /**
   * The step's name with the values registered by now: the plan rendered it before they existed
   * ({@code Point 'current' back at ⟨previous.stdout⟩}), the console and journal show what ran.
   */
  static String liveName(PlannedStep step, Map<String, Object> scope) {
    if (!Unknown.appearsIn(step.name())) return step.name();
    try {
      return Templates.render(step.spec().name(), "name", scope);
    } catch (RuntimeException e) {
      return step.name(); // a value the step's own result would give: keep the plan's placeholder
    }
  }
}
