package io.runbook.model;

import java.util.List;

/**
 * How a run moves through the fleet: preflight on every host first, then batches of hosts, each
 * followed by a health gate, with a failure policy.
 *
 * @param serial batch sizes: counts or percentages ("25%") of the targeted hosts; the last repeats
 *     until every host is in a batch ({@code [1, "25%", "100%"]} is a canary ramp; empty means all
 *     at once)
 * @param maxFailPercentage a batch fails when more than this share of its hosts failed (default 0:
 *     any)
 * @param onFailure what a failed batch does to the rollout
 * @param confirm ask the operator before each batch after the first
 * @param gate steps run on every upgraded host of a batch before the next batch starts
 */
public record Rollout(
    List<Object> serial,
    int maxFailPercentage,
    Policy onFailure,
    boolean confirm,
    List<StepSpec> gate) {

  public static final Rollout DEFAULT =
      new Rollout(List.of(), 0, Policy.ROLLBACK_HOST, false, List.of());

  public Rollout {
    serial = serial == null ? List.of() : List.copyOf(serial);
    gate = gate == null ? List.of() : List.copyOf(gate);
    onFailure = onFailure == null ? Policy.ROLLBACK_HOST : onFailure;
  }

  public Rollout with(List<Object> serial, Integer maxFail, Policy policy, Boolean confirm) {
    return new Rollout(
        serial != null ? serial : this.serial,
        maxFail != null ? maxFail : maxFailPercentage,
        policy != null ? policy : onFailure,
        confirm != null ? confirm : this.confirm,
        gate);
  }

  /** What a failed batch does. Failed hosts are always rolled back at once, whatever the policy. */
  public enum Policy {
    /**
     * Go on with the next batch while the batch stayed within max_fail_percentage; stop otherwise.
     */
    ROLLBACK_HOST("rollback-host"),
    /** Stop, and roll back every host this run changed, newest batch first. */
    ROLLBACK_FLEET("rollback-fleet"),
    /** Stop at the first failed host; hosts already upgraded stay upgraded. */
    HALT("halt");

    private final String key;

    Policy(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }

    public static Policy of(String key) {
      for (Policy p : values()) if (p.key.equals(key)) return p;
      throw new IllegalArgumentException(
          "on_failure must be rollback-host, rollback-fleet or halt, not '" + key + "'");
    }
  }
}
