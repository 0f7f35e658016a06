package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.result.StepResult;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code pause:} waits on the controller, touching no host: the soak time between canary batches,
 * or a moment for a service to settle before it is verified. Ok when the time is up; an interrupted
 * pause fails, so the run stops instead of carrying on as if the soak had passed.
 */
public final class PauseStep extends StepType<PauseStep.Args> {

  /**
   * {@code pause: 30}, {@code pause: "5m"} or {@code pause: {seconds: 30, reason: soak}}.
   *
   * @param seconds an integer of seconds, or a number with a unit: 250ms, 30s, 5m, 1h
   * @param reason why the run waits, repeated in the step's message
   */
  public record Args(String seconds, String reason) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {}

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Args of(String duration) {
      return new Args(duration, null);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Args of(long seconds) {
      return new Args(Long.toString(seconds), null);
    }

    /** The pause, or null when {@link #seconds} is not a duration. */
    public Duration duration() {
      return seconds == null ? null : Durations.parse(seconds);
    }
  }

  public PauseStep() {
    super("pause", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    if (args.seconds() == null)
      return List.of("'seconds' is missing; give how long to wait, e.g. 30 or 5m");
    if (args.duration() == null) {
      return List.of(
          "'" + args.seconds() + "' is not a duration: use seconds (30) or 250ms, 30s, 5m, 1h");
    }
    return List.of();
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    Duration d = args.duration();
    if (d == null) return StepResult.failed(validate(args).get(0));
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      // keep the flag: the executor is being stopped, and must see it after this step
      Thread.currentThread().interrupt();
      return StepResult.failed("interrupted");
    }
    String said =
        "paused "
            + format(d)
            + (args.reason() == null || args.reason().isBlank() ? "" : ": " + args.reason());
    return StepResult.ok(said).withData(Map.of("seconds", d.toMillis() / 1000.0));
  }

  /** 250ms, 30s, 5m, 1m30s. */
  static String format(Duration d) {
    if (d.toMillis() < 1000 || d.toMillis() % 1000 != 0) {
      return d.toMillis() < 1000 ? d.toMillis() + "ms" : d.toMillis() / 1000.0 + "s";
    }
    long s = d.toSeconds();
    if (s < 60) return s + "s";
    if (s % 3600 == 0) return s / 3600 + "h";
    return s % 60 == 0 ? s / 60 + "m" : s / 60 + "m" + s % 60 + "s";
  }
}
