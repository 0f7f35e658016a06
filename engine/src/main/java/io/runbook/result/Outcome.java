package io.runbook.result;

/** How a host's run ended. */
public enum Outcome {
  /** Every step passed; the host is upgraded. */
  SUCCEEDED("ok"),
  /** The upgrade was verified but a cleanup step failed; nothing was rolled back. */
  CLEANUP_FAILED("cleanup failed"),
  /** A step failed before anything was changed (preflight), or the host was untouched. */
  FAILED("failed"),
  /** A step failed and every rollback handler succeeded: the host is as it was. */
  ROLLED_BACK("rolled back"),
  /** A rollback handler failed: the host is in an unknown state and needs a person. */
  ROLLBACK_FAILED("rollback failed"),
  /** The host had succeeded, and was rolled back with the fleet after a later batch failed. */
  UNDONE("undone"),
  /** The host could not be reached; nothing ran on it. */
  UNREACHABLE("unreachable"),
  /** The rollout stopped before this host's batch; what its preflight did was undone. */
  NOT_RUN("not run");

  private final String label;

  Outcome(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
