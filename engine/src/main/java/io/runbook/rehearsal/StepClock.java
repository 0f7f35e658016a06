package io.runbook.rehearsal;

import io.runbook.event.Event;
import io.runbook.event.EventListener;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.result.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Listens to a run and keeps each host's forward steps (gate included) with the start and end the
 * journal records for them: the same {@code at} of the same events. Skipped steps (a {@code when}
 * that is false for the host's mode) are left out: nothing ran. Gate steps, which the plan does not
 * number, are numbered from 1 by their place in the runbook's gate.
 */
final class StepClock implements EventListener {
  private final Map<String, List<Downtime.StepTiming>> steps = new LinkedHashMap<>();
  private final Map<String, StepStarted> open = new HashMap<>();
  private final Map<String, Integer> gatePlace = new HashMap<>();

  @Override
  public synchronized void on(Event event) {
    if (event instanceof StepStarted s && !s.rollback()) {
      open.put(s.host(), s);
    } else if (event instanceof StepFinished f && !f.rollback() && !f.loopSummary()) {
      StepStarted s = open.remove(f.host());
      Instant start = s == null ? f.at() : s.at();
      boolean gate = "gate".equals(f.phase());
      int index = gate ? gatePlace.merge(f.host(), 1, Integer::sum) : f.index();
      if (!gate) gatePlace.remove(f.host());
      if (f.result().status() == Status.SKIPPED) return;
      boolean passed = f.result().status() == Status.OK || f.result().status() == Status.CHANGED;
      steps
          .computeIfAbsent(f.host(), h -> new ArrayList<>())
          .add(new Downtime.StepTiming(index, f.phase(), f.name(), start, f.at(), passed));
    }
  }

  synchronized List<Downtime.StepTiming> of(String host) {
    return List.copyOf(steps.getOrDefault(host, List.of()));
  }

  /**
   * Milliseconds from the first start to the last end of the steps of these phases; 0 when none
   * ran.
   */
  static long span(List<Downtime.StepTiming> steps, List<String> phases) {
    Instant first = null;
    Instant last = null;
    for (Downtime.StepTiming s : steps) {
      if (!phases.contains(s.phase())) continue;
      if (first == null || s.start().isBefore(first)) first = s.start();
      if (last == null || s.end().isAfter(last)) last = s.end();
    }
    return first == null ? 0 : Duration.between(first, last).toMillis();
  }
}
