package io.runbook.execution;

import io.runbook.lock.HostLock;
import io.runbook.transport.Transport;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a run shares across its hosts: whether it must stop (the operator asked, or its journal
 * cannot be written), how hosts are locked, and how a controller picks up hosts another one left.
 */
public final class RunControl {
  /** How often a host being worked on checks that its lock is still this run's (between steps). */
  public static final Duration VERIFY_EVERY = Duration.ofSeconds(2);

  /** How long resume waits for a dead controller's command to end before it stops it. */
  public static final Duration DEFAULT_ORPHAN_WAIT = Duration.ofMinutes(2);

  private static final String OPERATOR = "interrupted by the operator";

  private final AtomicReference<String> stop = new AtomicReference<>();
  private final String runId;
  private final String controller;
  private final String user;
  private final Duration lease;
  private final boolean breakLock;
  private volatile Duration orphanWait = DEFAULT_ORPHAN_WAIT;
  private volatile boolean superseded;

  /**
   * @param lease how long a host lock holds without renewal (a dead controller's lock expires after
   *     it)
   */
  public RunControl(
      String runId, String controller, String user, Duration lease, boolean breakLock) {
    this.runId = runId;
    this.controller = controller;
    this.user = user;
    this.lease = lease;
    this.breakLock = breakLock;
  }

  /**
   * Asks the run to stop: steps in flight finish, nothing new starts, hosts roll back per policy.
   */
  public void cancel() {
    stop.compareAndSet(null, OPERATOR);
  }

  /**
   * Stops the run for a reason other than the operator's (its journal cannot be written): like
   * {@link #cancel()}, but hosts in progress are rolled back whatever the policy.
   */
  public void abort(String reason) {
    stop.compareAndSet(null, reason);
  }

  public boolean cancelled() {
    return stop.get() != null;
  }

  /** Why the run stops, or null while it goes on. */
  public String stopReason() {
    return stop.get();
  }

  /** The operator stopped the run (Ctrl-C): exit code 130 once the hosts are safe. */
  public boolean byOperator() {
    return OPERATOR.equals(stop.get());
  }

  /**
   * Another controller took this run over (a resume or rollback of it while this one was still
   * alive): this controller must not touch a host or write the run's journal any more; the other
   * one carries on.
   */
  void supersede(String by) {
    superseded = true;
    abort(
        "run "
            + runId
            + " was taken over by another controller ("
            + by
            + "): this controller stops");
  }

  public boolean superseded() {
    return superseded;
  }

  public String runId() {
    return runId;
  }

  boolean breakLock() {
    return breakLock;
  }

  /**
   * How long to wait for another controller's command still running on a host before stopping it.
   */
  public RunControl orphanWait(Duration wait) {
    this.orphanWait = wait;
    return this;
  }

  Duration orphanWait() {
    return orphanWait;
  }

  HostLock lock(Transport transport, HostPlan plan) {
    Object path = plan.vars().get("runbook_lock_path");
    return HostLock.acquire(
        transport,
        plan.name(),
        runId,
        controller,
        user,
        lease,
        breakLock,
        path == null ? HostLock.DEFAULT_PATH : path.toString());
  }

  /**
   * Renew a host's lease once a third of it has passed (by the controller's clock), so a long run
   * keeps its locks.
   */
  Duration renewEvery() {
    return lease.dividedBy(3);
  }

  /** How often a host being worked on checks its lock: a broken lock is noticed within seconds. */
  Duration verifyEvery() {
    Duration renew = renewEvery();
    return renew.compareTo(VERIFY_EVERY) < 0 ? renew : VERIFY_EVERY;
  }
}
