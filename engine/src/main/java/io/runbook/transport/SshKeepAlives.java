package io.runbook.transport;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import net.schmizz.concurrent.Promise;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.DisconnectReason;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.connection.Connection;
import net.schmizz.sshj.connection.ConnectionException;

/**
 * Keep-alives for every SSH connection of the process from one daemon thread, where sshj would
 * start a thread per connection. Each connection gets a {@code keepalive@openssh.com} request
 * (which OpenSSH answers, unlike an IGNORE packet) every interval; when {@code misses} in a row go
 * unanswered the connection is killed the way sshj's own keep-alive does, so that a command waiting
 * on it fails instead of hanging. A connection that ended is forgotten at its next tick.
 *
 * <p>A request is a small write; should one block (a host that stopped reading while the socket's
 * send buffer is full), the other connections' keep-alives wait for it. That delays noticing a lost
 * host; it cannot disconnect a healthy one, since only requests actually sent count as misses.
 */
final class SshKeepAlives {
  private static final ScheduledThreadPoolExecutor TIMER =
      new ScheduledThreadPoolExecutor(
          1,
          r -> {
            Thread t = new Thread(r, "ssh-keepalive");
            t.setDaemon(true);
            return t;
          });

  static {
    TIMER.setRemoveOnCancelPolicy(true);
  }

  private SshKeepAlives() {}

  /** Starts watching an authenticated connection. */
  static void watch(SSHClient client, int intervalSeconds, int misses) {
    Watch w = new Watch(client.getConnection(), intervalSeconds, misses);
    synchronized (w) {
      w.future =
          TIMER.scheduleWithFixedDelay(w, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
    }
  }

  private static final class Watch implements Runnable {
    private final Connection conn;
    private final int intervalSeconds;
    private final int misses;
    private final Queue<Promise<SSHPacket, ConnectionException>> pending = new ArrayDeque<>();
    private ScheduledFuture<?> future;

    Watch(Connection conn, int intervalSeconds, int misses) {
      this.conn = conn;
      this.intervalSeconds = intervalSeconds;
      this.misses = misses;
    }

    @Override
    public synchronized void run() {
      if (!conn.getTransport().isRunning()) {
        future.cancel(false);
        return;
      }
      while (!pending.isEmpty() && pending.peek().isFulfilled()) pending.remove();
      try {
        if (pending.size() >= misses) {
          throw new ConnectionException(
              DisconnectReason.CONNECTION_LOST,
              "Did not receive any keep-alive response for "
                  + misses * intervalSeconds
                  + " seconds");
        }
        pending.add(conn.sendGlobalRequest("keepalive@openssh.com", true, new byte[0]));
      } catch (Exception e) {
        future.cancel(false);
        conn.getTransport().die(e);
      }
    }
  }
}
