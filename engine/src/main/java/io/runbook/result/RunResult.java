package io.runbook.result;

import java.util.List;

/** What a run did on every host, and the exit code that sums it up. */
public record RunResult(String runId, List<HostResult> hosts, long durationMillis) {

  /**
   * 0 when every host succeeded; 1 when upgrades held but a cleanup step failed; 2 when some host failed
   * and was rolled back cleanly (or was never changed, or was unreachable); 3 when a rollback failed.
   */
  public int exitCode() {
    boolean rollbackFailed = false, failed = false, cleanup = false;
    for (HostResult h : hosts) {
      switch (h.outcome()) {
        case ROLLBACK_FAILED -> rollbackFailed = true;
        case FAILED, ROLLED_BACK, UNREACHABLE, NOT_RUN -> failed = true;
        case CLEANUP_FAILED -> cleanup = true;
        default -> { }
      }
    }
    return rollbackFailed ? 3 : failed ? 2 : cleanup ? 1 : 0;
  }
}
