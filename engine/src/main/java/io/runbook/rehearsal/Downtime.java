package io.runbook.rehearsal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Which steps took the service down on a rehearsal host, and for how long. A probe polls the
 * service's health on the host during the run; the downtime starts with the step during which it
 * was first seen unhealthy (the first step in flight between the last healthy and the first
 * unhealthy probe, preflight steps excepted since they change nothing), and ends with the first
 * verify-phase step that passed after it (or, without one, the step in flight when the probe saw
 * the service healthy again). The measured downtime is the time from that first step's start to
 * that last step's end, both as the journal records them; the steps in between are the downtime
 * steps.
 */
public final class Downtime {

  /** A forward step as the journal records it. */
  public record StepTiming(
      int index, String phase, String name, Instant start, Instant end, boolean passed) {
    public long millis() {
      return Duration.between(start, end).toMillis();
    }
  }

  public record Sample(Instant at, boolean healthy) {}

  /**
   * A host's measured downtime.
   *
   * @param steps the downtime steps, first to last; empty (and 0 ms) when the service never went
   *     down
   * @param clientMillis the outage as a client polling the health URL saw it: from halfway between
   *     the last healthy and the first unhealthy sample to halfway between the last unhealthy and
   *     the next healthy one (to the last sample when it never came back); 0 when it never went
   *     down
   */
  public record Result(
      long millis,
      List<StepTiming> steps,
      boolean recovered,
      long clientMillis,
      Instant clientFrom,
      Instant clientTo) {
    public Result(long millis, List<StepTiming> steps, boolean recovered) {
      this(millis, steps, recovered, 0, null, null);
    }
  }

  private Downtime() {}

  /** The outage as a client saw it ({@link Result#clientMillis}), from the samples alone. */
  public static long client(List<Sample> samples) {
    return measure(List.of(), samples).clientMillis();
  }

  public static Result measure(List<StepTiming> steps, List<Sample> samples) {
    Instant lastHealthy = null;
    Instant down = null;
    Instant lastDown = null;
    Instant up = null;
    for (Sample s : samples) {
      if (down == null) {
        if (s.healthy()) lastHealthy = s.at();
        else down = lastDown = s.at();
      } else if (s.healthy()) {
        up = s.at();
        break;
      } else {
        lastDown = s.at();
      }
    }
    long client = 0;
    Instant from = null;
    Instant to = null;
    if (down != null) {
      from =
          lastHealthy == null
              ? down
              : lastHealthy.plus(Duration.between(lastHealthy, down).dividedBy(2));
      to = up == null ? lastDown : lastDown.plus(Duration.between(lastDown, up).dividedBy(2));
      client = Duration.between(from, to).toMillis();
    }
    if (down == null || steps.isEmpty())
      return new Result(0, List.of(), up != null || down == null, client, from, to);
    // Preflight steps change nothing by contract, so the first other step in flight between the
    // last
    // healthy and the first unhealthy probe is the one that took the service down.
    int first = -1;
    int firstAny = -1;
    for (int i = 0; i < steps.size() && first < 0; i++) {
      StepTiming st = steps.get(i);
      boolean after = lastHealthy == null || st.end().isAfter(lastHealthy);
      if (after && !st.start().isAfter(down)) {
        if (firstAny < 0) firstAny = i;
        if (!st.phase().equals("preflight")) first = i;
      }
    }
    if (first < 0) first = firstAny >= 0 ? firstAny : lastStartedBy(steps, down);
    int last = -1;
    for (int i = first; i < steps.size() && last < 0; i++) {
      if (steps.get(i).phase().equals("verify") && steps.get(i).passed()) last = i;
    }
    if (last < 0) last = up == null ? steps.size() - 1 : Math.max(first, lastStartedBy(steps, up));
    List<StepTiming> window = List.copyOf(steps.subList(first, last + 1));
    long ms =
        Duration.between(window.get(0).start(), window.get(window.size() - 1).end()).toMillis();
    return new Result(ms, window, up != null, client, from, to);
  }

  private static int lastStartedBy(List<StepTiming> steps, Instant t) {
    int idx = 0;
    for (int i = 0; i < steps.size(); i++) if (!steps.get(i).start().isAfter(t)) idx = i;
    return idx;
  }
}
