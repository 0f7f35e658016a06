package io.runbook.rehearsal;

import io.runbook.execution.Batches;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Predicts a rollout over the real fleet from what a rehearsal measured per mode. With the targeted
 * hosts in plan order split into batches by {@code rollout.serial} (exactly as {@code apply} splits
 * them), and {@code F = --forks}:
 *
 * <pre>
 *   waves(b)        = ceil(|b| / F)                         hosts of a batch run F at a time
 *   preflight       = ceil(N / F) * max preflight(mode)     every host's preflight before any batch
 *   duration(b)     = waves(b) * max_{h in b} upgrade(mode h) + max gate(mode) + max cleanup(mode)
 *   window(b)       = waves(b) * max_{h in b} downtime(mode h)
 *   fleet duration  = preflight + sum_b duration(b)
 *   downtime window = sum_b window(b)         time during which at least one host is down
 *   host downtime   = sum_h downtime(mode h)  host-seconds of downtime
 *   full outage(m)  = downtime(m) when one wave of one batch holds every host of mode m, else 0
 * </pre>
 *
 * where {@code upgrade} is the measured time from the start of the first backup-phase step to the
 * end of the verify phase on a rehearsal host, {@code gate} the rollout gate (pauses included), and
 * {@code downtime} the measured downtime of that mode's rehearsal hosts (the longest, if several).
 */
public final class FleetForecast {

  /** What the rehearsal measured for one mode, in milliseconds. */
  public record ModeTiming(
      String mode,
      long preflightMs,
      long upgradeMs,
      long gateMs,
      long cleanupMs,
      long downtimeMs) {}

  public record Batch(int number, int hosts, int waves, long durationMs, long downtimeWindowMs) {}

  public record Result(
      int hosts,
      int forks,
      List<Batch> batches,
      long preflightMs,
      long durationMs,
      long downtimeWindowMs,
      long hostDowntimeMs,
      int maxHostsDownAtOnce,
      Map<String, Long> fullOutageMs) {}

  private FleetForecast() {}

  /**
   * Forecasts the whole fleet's rollout from the rehearsed hosts' timings.
   *
   * @param hostModes the mode of each targeted host, in plan order
   * @param timings measured per mode; every mode of {@code hostModes} must be present
   */
  public static Result predict(
      List<String> hostModes, List<Object> serial, int forks, Map<String, ModeTiming> timings) {
    if (forks < 1) throw new IllegalArgumentException("forks < 1");
    for (String m : hostModes) {
      if (!timings.containsKey(m))
        throw new IllegalArgumentException("no rehearsal timing for mode " + m);
    }
    int n = hostModes.size();
    long preflight =
        waves(n, forks)
            * hostModes.stream().mapToLong(m -> timings.get(m).preflightMs()).max().orElse(0);
    List<Batch> batches = new ArrayList<>();
    long duration = preflight;
    long window = 0;
    int maxDown = 0;
    Map<String, Long> fullOutage = new LinkedHashMap<>();
    hostModes.forEach(m -> fullOutage.putIfAbsent(m, 0L));
    List<List<String>> split = Batches.split(hostModes, serial);
    for (int i = 0; i < split.size(); i++) {
      List<String> b = split.get(i);
      int waves = waves(b.size(), forks);
      long work = waves * max(b, timings, ModeTiming::upgradeMs);
      long d = work + max(b, timings, ModeTiming::gateMs) + max(b, timings, ModeTiming::cleanupMs);
      long w = waves * max(b, timings, ModeTiming::downtimeMs);
      batches.add(new Batch(i + 1, b.size(), waves, d, w));
      duration += d;
      window += w;
      maxDown = Math.max(maxDown, Math.min(b.size(), forks));
      fullOutage.replaceAll(
          (m, was) -> {
            long inBatch = b.stream().filter(m::equals).count();
            long inFleet = hostModes.stream().filter(m::equals).count();
            return inBatch == inFleet && waves == 1 ? timings.get(m).downtimeMs() : was;
          });
    }
    long hostDowntime = hostModes.stream().mapToLong(m -> timings.get(m).downtimeMs()).sum();
    return new Result(
        n, forks, batches, preflight, duration, window, hostDowntime, maxDown, fullOutage);
  }

  private static int waves(int hosts, int forks) {
    return (hosts + forks - 1) / forks;
  }

  private static long max(
      List<String> modes, Map<String, ModeTiming> t, ToLongFunction<ModeTiming> f) {
    return modes.stream().mapToLong(m -> f.applyAsLong(t.get(m))).max().orElse(0);
  }
}
