package io.runbook.transport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many SSH connections a run keeps open at once. sshj gives every open connection a reader
 * thread, so a fleet of hundreds of hosts would otherwise hold a thread per host for the whole run,
 * also while most of them wait for their batch or are done with it.
 *
 * <p>Before a connection opens and the limit is reached, the least recently used connection that
 * runs no command and forwards nothing is closed ("parked"); its transport reconnects at its next
 * command. With {@code forks} workers and one lease keeper, a limit of {@code forks + 1} always
 * finds such a connection, so the limit holds and no command ever waits for a slot. Connections
 * that forward a Docker socket are never parked: should they fill the limit, a new connection opens
 * beyond it rather than wait.
 */
public final class SshConnectionLimit {
  /** No limit: connections stay open until their transport is closed. */
  public static final SshConnectionLimit NONE = new SshConnectionLimit(Integer.MAX_VALUE);

  private final int max;
  // Access order: the first entry is the least recently used connection.
  private final Map<SshTransport, Boolean> open = new LinkedHashMap<>(16, 0.75f, true);
  private int parked;
  private int
      connecting; // slots taken by connections being opened, so concurrent openings count too

  private SshConnectionLimit(int max) {
    this.max = max;
  }

  /** At most {@code max} open connections (at least 1). */
  public static SshConnectionLimit of(int max) {
    if (max < 1) throw new IllegalArgumentException("the connection limit must be at least 1");
    return new SshConnectionLimit(max);
  }

  /** How many times a connection was closed to make room; a figure for benchmarks and tests. */
  public synchronized int parked() {
    return parked;
  }

  /** How many connections are open now. */
  public synchronized int openNow() {
    return open.size();
  }

  /**
   * Takes a slot for a connection {@code opening} is about to open, parking idle connections while
   * the limit is reached. Follow with {@link #opened} or {@link #failed}.
   */
  void reserve(SshTransport opening) {
    if (max == Integer.MAX_VALUE) return;
    List<SshTransport> tried = new ArrayList<>();
    while (true) {
      SshTransport victim = null;
      synchronized (this) {
        if (open.size() + connecting < max) {
          connecting++;
          return;
        }
        for (SshTransport t : open.keySet()) {
          if (t != opening && !tried.contains(t)) {
            victim = t;
            break;
          }
        }
      }
      if (victim == null) { // every open connection is busy or pinned: go beyond the limit
        synchronized (this) {
          connecting++;
        }
        return;
      }
      tried.add(victim);
      if (victim.park()) {
        synchronized (this) {
          parked++;
        }
      }
    }
  }

  synchronized void opened(SshTransport t) {
    if (max == Integer.MAX_VALUE) return;
    connecting--;
    open.put(t, Boolean.TRUE);
  }

  /** The connection {@link #reserve} made room for did not open. */
  synchronized void failed() {
    if (max != Integer.MAX_VALUE) connecting--;
  }

  /** Marks {@code t} as the most recently used. */
  synchronized void used(SshTransport t) {
    if (max != Integer.MAX_VALUE) open.get(t);
  }

  synchronized void closed(SshTransport t) {
    if (max != Integer.MAX_VALUE) open.remove(t);
  }
}
