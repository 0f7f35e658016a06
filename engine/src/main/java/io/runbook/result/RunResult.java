package io.runbook.result;

import java.util.List;

/**
 * What a run did on every host, and the exit code that sums it up.
 *
 * @param stopped why the rollout stopped early, or null
 * @param interrupted the operator interrupted the run (exit code 130 once hosts are safe)
 */
public record RunResult(
    String runId,
    List<HostResult> hosts,
    long durationMillis,
    String stopped,
    boolean interrupted) {

  /**
   * 0 when every host succeeded; 1 when upgrades held but a cleanup step failed; 2 when some host
   * failed and was rolled back cleanly (or was never changed, or was unreachable, or the rollout
   * stopped before it); 3 when a rollback failed; 130 when the operator interrupted the run and
   * every host is safe.
   */
  public int exitCode() {
    boolean rollbackFailed = false, failed = false, cleanup = false;
    for (HostResult h : hosts) {
      switch (h.outcome()) {
        case ROLLBACK_FAILED -> rollbackFailed = true;
        case FAILED, ROLLED_BACK, UNREACHABLE, NOT_RUN, UNDONE -> failed = true;
        case CLEANUP_FAILED -> cleanup = true;
        default -> {}
      }
    }
    if (rollbackFailed) return 3;
    if (interrupted) return 130;
    return failed ? 2 : cleanup ? 1 : 0;
  }
}
