package io.runbook.execution;

import io.runbook.lock.HostLock;
import io.runbook.transport.Transport;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a run shares across its hosts: whether the operator asked it to stop, and how hosts are locked.
 *
 * @param lease how long a host lock holds without renewal (a dead controller's lock expires after it)
 */
public final class RunControl {
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final String runId;
  private final String controller;
  private final String user;
  private final Duration lease;
  private final boolean breakLock;

  public RunControl(String runId, String controller, String user, Duration lease, boolean breakLock) {
    this.runId = runId;
    this.controller = controller;
    this.user = user;
    this.lease = lease;
    this.breakLock = breakLock;
  }

  /** Asks the run to stop: steps in flight finish, nothing new starts, hosts roll back per policy. */
  public void cancel() {
    cancelled.set(true);
  }

  public boolean cancelled() {
    return cancelled.get();
  }

  boolean breakLock() {
    return breakLock;
  }

  HostLock lock(Transport transport, HostPlan plan) {
    Object path = plan.vars().get("runbook_lock_path");
    return HostLock.acquire(transport, plan.name(), runId, controller, user, lease, breakLock,
        path == null ? HostLock.DEFAULT_PATH : path.toString());
  }

  /** Renew a host's lease once a third of it has passed (by the controller's clock), so a long run keeps its locks. */
  Duration renewEvery() {
    return lease.dividedBy(3);
  }
}
