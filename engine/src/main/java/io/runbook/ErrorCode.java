package io.runbook;

/** What kind of failure ended a command, and the exit code that reports it. */
public enum ErrorCode {
  /** A host failed and its changes were rolled back, or it was left untouched. */
  HOST_FAILED(2),
  /** A rollback handler failed: a host is in an unknown state and needs a person. */
  ROLLBACK_FAILED(3),
  /** A runbook, inventory or option is invalid; nothing was run. */
  INVALID_INPUT(4),
  /** A host could not be reached or authenticated. Reported per host; counts as a failed host. */
  UNREACHABLE(2),
  /** The controller itself failed (I/O on the journal, a bug). */
  INTERNAL(5),
  /** The run was interrupted (Ctrl-C) after rolling back what it had started. */
  INTERRUPTED(130);

  private final int exitCode;

  ErrorCode(int exitCode) {
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
