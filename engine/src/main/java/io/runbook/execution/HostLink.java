package io.runbook.execution;

import io.runbook.RunbookException;
import io.runbook.event.EventListener;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.inventory.Host;
import io.runbook.lock.HostLock;
import io.runbook.lock.HostLockedException;
import io.runbook.model.Runbook;
import io.runbook.model.StepSpec;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import io.runbook.yaml.Suggestions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A host's connection and lock: connects, takes the lock and waits out other controllers' commands
 * (orphans), renews the lease and checks every few seconds that the lock is still this run's, and
 * keeps the connections to the hosts its steps are delegated to.
 */
final class HostLink {
  private final HostPlan plan;
  private final Runbook runbook;
  private final EventListener events;
  private final RunControl control;
  // Told why the host is not touched (its rollback failed): a command of another run still runs
  // there.
  private final Consumer<String> notTouched;
  private final LockLost onLockLost;
  private Connector connector;
  private Transport transport;
  private StepRunner runner;
  private HostLock lock;
  private Become become = Become.NONE;
  private long lockRenewedAt = System.nanoTime();
  private long lockVerifiedAt = System.nanoTime();
  private boolean lockLost;
  // Whose commands may still run on the host when this controller opens it: this run's (resume,
  // rollback).
  private boolean recovering;
  private boolean orphansOfThisRun;
  // Connections to the hosts this host's steps are delegated to (delegate_to), opened when first
  // needed.
  private final Map<String, Delegate> delegates = new LinkedHashMap<>();

  /** Another run broke the host's lock: the session gives the host its final result. */
  @FunctionalInterface
  interface LockLost {
    void lost(String rollbackError, String message);
  }

  /**
   * A host a step runs on instead of this one. Its commands carry the run tag (so orphans are
   * found) but not this host's lock guard: the lock lives on the target, and the delegate is not
   * locked by this run.
   */
  private record Delegate(Transport transport, StepRunner runner) {}

  /**
   * Where a step runs: this host's runner (delegate null), a delegate's, or nowhere ({@code
   * problem}).
   */
  record Where(StepRunner runner, String delegate, String problem) {}

  HostLink(
      HostPlan plan,
      Runbook runbook,
      EventListener events,
      RunControl control,
      Consumer<String> notTouched,
      LockLost onLockLost) {
    this.plan = plan;
    this.runbook = runbook;
    this.events = events;
    this.control = control;
    this.notTouched = notTouched;
    this.onLockLost = onLockLost;
  }

  /** For hosts that may need undoing later without being opened now. */
  void connectWith(Connector connector) {
    this.connector = connector;
  }

  Connector connector() {
    return connector;
  }

  /** Commands of this very run may still run on the host (resume, rollback). */
  void recovering() {
    recovering = true;
  }

  /** Whether the host's steps have a connection to run on. */
  boolean connected() {
    return runner != null;
  }

  /** Whether this link holds the host's lock (reclaimed or opened). */
  boolean locked() {
    return lock != null && !lockLost;
  }

  boolean lockLost() {
    return lockLost;
  }

  /**
   * Whether commands of this very run were still running here when this controller took the host:
   * then the controller that ran them may have journaled more since this one read the journal.
   */
  boolean hadOrphansOfThisRun() {
    return orphansOfThisRun;
  }

  /**
   * Takes the lock back, or, when the host cannot be reached, lets go of it: it stays until the
   * lease runs out.
   */
  void reclaim(Connector connector) {
    this.connector = connector;
    String problem = connect(connector);
    if (problem != null) {
      if (runner != null) runner.close();
      if (transport != null) transport.close();
      runner = null;
      transport = null;
      lock = null;
    }
  }

  /** Connects, locks, and waits out other controllers' commands; null when done, else why not. */
  String connect(Connector connector) {
    this.connector = connector;
    try {
      transport = new RunTaggedTransport(connector.open(plan.host()), control.runId());
    } catch (TransportException e) {
      return "unreachable: " + e.getMessage();
    }
    become =
        runbook.become() || plan.host().become()
            ? Become.as(plan.host().becomeUser())
            : Become.NONE;
    if (runner != null) runner.close();
    runner = new StepRunner(transport, runbook, become);
    try {
      lock = control.lock(((RunTaggedTransport) transport).untagged(), plan);
      lock.tookOverFrom()
          .ifPresent(
              h ->
                  events.on(
                      new LockChanged(
                          Instant.now(),
                          plan.name(),
                          control.breakLock() ? "broken" : "took_over",
                          h.runId() + " (" + h.user() + "@" + h.controller() + ")")));
      events.on(new LockChanged(Instant.now(), plan.name(), "taken", null));
      lockVerifiedAt = lockRenewedAt = System.nanoTime();
      ((RunTaggedTransport) transport).guardWith(lock);
      // Another controller's command may still run here: its own (resume, rollback), or the one
      // whose lock this run took over. Nothing is done to the host until those commands are gone.
      List<String> others = new ArrayList<>();
      if (recovering) others.add(control.runId());
      lock.tookOverFrom()
          .map(HostLock.Holder::runId)
          .filter(r -> !r.equals(control.runId()))
          .ifPresent(others::add);
      for (String run : others) {
        Orphans.Outcome o =
            Orphans.settle(
                ((RunTaggedTransport) transport).untagged(), become, run, control.orphanWait());
        if (!o.found()) continue;
        events.on(
            new OrphanFound(
                Instant.now(), plan.name(), run, o.processes(), o.action(), o.waitedMillis()));
        if (run.equals(control.runId())) orphansOfThisRun = true;
        if (o.action().equals("left")) {
          notTouched.accept(
              "not touched: a command of run "
                  + run
                  + " still runs there and could not be stopped ("
                  + String.join("; ", o.processes())
                  + "); stop it by hand, then resume or roll back again");
          return "a command of another controller still runs on this host";
        }
      }
      return null;
    } catch (TransportException e) {
      return "unreachable: " + e.getMessage();
    } catch (RunbookException e) {
      return e.getMessage();
    }
  }

  /**
   * Keeps the host's lease, and checks every few seconds that the lock is still this run's. If
   * another run broke it, that run may be changing the host now: undoing our steps could fight it,
   * so the host is left for a person, and the journal and console say so.
   */
  boolean renewLock() {
    if (lockLost) return false;
    if (!lockCheckDue()) return true;
    try {
      lock.renew();
      lockVerifiedAt = lockRenewedAt = System.nanoTime();
      return true;
    } catch (TransportException e) {
      return true; // the next step meets the lost connection and handles it
    } catch (RunbookException e) {
      lockLost(e);
      return false;
    }
  }

  /**
   * Before undoing anything: is the host still ours? Another run may have broken the lock
   * meanwhile.
   */
  boolean verifyLock() {
    if (lock == null) return true;
    lockVerifiedAt = 0;
    return renewLock();
  }

  private void lockLost(RunbookException e) {
    lockLost = true;
    if (e instanceof HostLockedException le
        && le.holder().isPresent()
        && le.holder().get().runId().equals(control.runId())) {
      HostLock.Holder by = le.holder().get();
      control.supersede(by.user() + "@" + by.controller());
    }
    String to =
        e instanceof HostLockedException le
            ? le.holder()
                .map(h -> h.runId() + " (" + h.user() + "@" + h.controller() + ")")
                .orElse("nobody (removed)")
            : e.getMessage();
    events.on(new LockChanged(Instant.now(), plan.name(), "lost", to));
    onLockLost.lost("not rolled back: " + e.getMessage(), "lost the host lock to " + to);
  }

  /** Whether this host holds a lock whose lease is due for renewal. */
  private boolean leaseDue() {
    return lock != null && System.nanoTime() - lockRenewedAt >= control.renewEvery().toNanos();
  }

  /** Whether a host being worked on should check (and renew) its lock now. */
  private boolean lockCheckDue() {
    return lock != null && System.nanoTime() - lockVerifiedAt >= control.verifyEvery().toNanos();
  }

  /**
   * Renews the lease of a host that no fork works on: one still to run checks its lock as between
   * steps; a finished one ({@code finished}) only renews it.
   */
  void keepLease(boolean finished) {
    if (!finished && !lockLost) {
      if (leaseDue()) renewLock();
    } else if (leaseDue() && !lockLost) {
      try {
        lock.renew();
        lockRenewedAt = System.nanoTime();
      } catch (RuntimeException e) {
        // finished hosts keep their result; a fleet rollback meets the lost lock or connection
        // itself
      }
    }
  }

  /**
   * Where a step runs: {@code delegate_to} rendered with the target's variables names an inventory
   * host (the plan checked the names it could know); its connection is opened once, when first
   * needed, with the delegate's own inventory settings. A delegation to this very host is no
   * delegation.
   */
  Where where(StepSpec spec, Map<String, Object> scope) {
    if (spec.delegateTo() == null) return new Where(runner, null, null);
    String name;
    try {
      name = Templates.render(spec.delegateTo(), "delegate_to", scope).strip();
    } catch (Templates.TemplateError e) {
      return new Where(null, null, "delegate_to: " + e.getMessage());
    }
    if (name.equals(plan.name())) return new Where(runner, null, null);
    Host host = plan.delegates().get(name);
    if (host == null) {
      return new Where(
          null,
          name,
          "delegate_to: '"
              + name
              + "' is not a host of the inventory"
              + Suggestions.didYouMean(name, plan.delegates().keySet()));
    }
    Delegate d = delegates.get(name);
    if (d == null) {
      if (connector == null)
        return new Where(null, name, "delegate_to: no connection to '" + name + "'");
      try {
        Transport t = new RunTaggedTransport(connector.open(host), control.runId());
        Become b = runbook.become() || host.become() ? Become.as(host.becomeUser()) : Become.NONE;
        d = new Delegate(t, new StepRunner(t, runbook, b));
        delegates.put(name, d);
      } catch (TransportException e) {
        return new Where(null, name, "delegate '" + name + "' unreachable: " + e.getMessage());
      }
    }
    return new Where(d.runner(), name, null);
  }

  /** Closes a delegate's connection that was lost: a later step (or the undo) connects again. */
  void dropDelegate(String name) {
    Delegate d = name == null ? null : delegates.remove(name);
    if (d == null) return;
    d.runner().close();
    try {
      d.transport().close();
    } catch (RuntimeException e) {
      // already gone
    }
  }

  /** Releases the lock and the connections. */
  void close() {
    if (lock != null) {
      try {
        lock.release();
        events.on(new LockChanged(Instant.now(), plan.name(), "released", null));
      } catch (RuntimeException e) {
        // the lease will expire on its own; the host is no worse for it
      }
    }
    if (runner != null) runner.close();
    if (transport != null) transport.close();
    for (String d : List.copyOf(delegates.keySet())) dropDelegate(d);
  }
}
