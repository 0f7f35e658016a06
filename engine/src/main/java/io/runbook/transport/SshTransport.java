package io.runbook.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import net.schmizz.concurrent.Promise;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.OpenFailException;
import net.schmizz.sshj.connection.channel.direct.DirectConnection;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.connection.channel.direct.Signal;

/**
 * Runs commands on a host over SSH with sshj: one connection per host, opened by {@link #connect}
 * and reused for every command, each command on its own session channel.
 *
 * <p>A frozen or vanished host is noticed by keep-alives (one every {@value #KEEP_ALIVE_SECONDS} s,
 * sent for all connections by {@link SshKeepAlives}; the connection is dropped after {@value
 * #KEEP_ALIVE_MISSES} go unanswered), so a command on it fails with a {@link TransportException}
 * instead of hanging. After a lost connection the next command reconnects, with a few attempts and
 * back-off, so that a rollback can still run after a network blip. Under a {@link
 * SshConnectionLimit} an idle connection may be closed to make room for another host's; the next
 * command reconnects the same way.
 *
 * <p>A host behind jump hosts ({@link SshSettings#via()}) is reached as OpenSSH's ProxyJump reaches
 * it: a connection to the first hop, a direct-tcpip channel from it to the next, and so on, each
 * hop logged in to and host-key-checked like a target. The hops belong to this connection and close
 * with it.
 *
 * <p>For use by one thread at a time, like every {@link Transport}.
 */
public final class SshTransport implements Transport {

  private static final int KEEP_ALIVE_SECONDS = 2;
  private static final int KEEP_ALIVE_MISSES = 3;
  private static final long[] RECONNECT_BACKOFF_MS = {500, 1000, 2000};

  /**
   * How long a timed-out command gets to die after SIGTERM (which sudo passes on), and after
   * SIGKILL.
   */
  private static final Duration TERM_GRACE = Duration.ofSeconds(1);

  private static final Duration KILL_GRACE = Duration.ofSeconds(2);

  /**
   * After a command exited, how long its output may still arrive: a daemon it started may hold the
   * pipes.
   */
  private static final Duration DRAIN = Duration.ofSeconds(2);

  private static final long POLL_MS = 100;

  private final SshSettings settings;
  private final SshConnectionLimit limit;
  private final DefaultConfig config;
  private final SshKeys keys;
  private final List<SshKeys> hopKeys;
  // The jump-host connections under the current client, first hop first; replaced with it.
  private volatile List<SSHClient> hops = List.of();
  // Held while a command runs; a parking attempt from another thread (the limit) skips a busy
  // connection.
  private final ReentrantLock use = new ReentrantLock();
  // Held while the connection is replaced or dropped: a command's thread and the Docker socket
  // forward's
  // threads may both find it lost, and only one may reconnect. Parking only ever tries it, so
  // transports
  // reconnecting at once (each making room by parking another) cannot wait on each other.
  private final ReentrantLock conn = new ReentrantLock();
  private volatile SSHClient client;
  private volatile boolean closed;
  private volatile SshSocketForward dockerForward;

  private SshTransport(SshSettings settings, SshConnectionLimit limit) {
    this.settings = settings;
    this.limit = limit;
    this.config = new DefaultConfig();
    SSHClient loader = new SSHClient(config);
    this.keys = SshKeys.load(settings, loader);
    List<SshKeys> hk = new ArrayList<>();
    for (SshSettings hop : settings.jumps()) hk.add(SshKeys.load(hop, loader));
    this.hopKeys = List.copyOf(hk);
  }

  /**
   * How the last login succeeded: {@code agent key ...}, {@code key file ...} or {@code password
   * (...)}.
   */
  public String loginMethod() {
    return keys.used();
  }

  /**
   * Connects and logs in, verifying the host key against {@link SshSettings#knownHosts()}.
   *
   * @throws TransportException with a message that says what to do (unknown or changed host key,
   *     refused login, missing key file, refused or silent port)
   */
  public static SshTransport connect(SshSettings settings) {
    return connect(settings, SshConnectionLimit.NONE);
  }

  /**
   * Like {@link #connect(SshSettings)}, keeping the run's open connections within {@code limit}.
   */
  public static SshTransport connect(SshSettings settings, SshConnectionLimit limit) {
    SshTransport transport = new SshTransport(settings, limit);
    try {
      transport.client = transport.open();
    } catch (ConnectFailure f) {
      throw new TransportException(transport.describe(), f.getMessage(), f.getCause());
    }
    return transport;
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    if (closed) throw new TransportException(describe(), "the connection was already closed");
    use.lock();
    try {
      limit.used(this);
      return run(request, true);
    } finally {
      use.unlock();
    }
  }

  /**
   * Closes the connection to make room for another, unless a command runs on it or a socket is
   * forwarded over it; the next command reconnects. Called by the {@link SshConnectionLimit} from
   * any thread.
   */
  boolean park() {
    if (!use.tryLock()) return false;
    try {
      if (!conn.tryLock()) return false;
      try {
        if (closed || dockerForward != null || client == null) return false;
        drop();
        return true;
      } finally {
        conn.unlock();
      }
    } finally {
      use.unlock();
    }
  }

  /**
   * @param killOnTimeout false for our own clean-up commands, which must not start clean-ups in
   *     turn
   */
  private ExecResult run(ExecRequest request, boolean killOnTimeout) {
    long started = System.nanoTime();
    // "exit $?" keeps the login shell as the parent of the command instead of exec'ing it: sudo
    // ignores
    // signals sent from its parent's process group, which is where sshd sends a time-out's SIGTERM
    // from.
    Secret sudoPassword = settings.auth().becomePassword();
    boolean withPassword = request.become().enabled() && sudoPassword != null;
    String shell =
        withPassword
            ? request.become().wrapWithPassword(request.innerCommand())
            : request.shellCommand();
    Session.Command cmd = start(ProcessGroupMarker.PREFIX + shell + "\nexit $?");
    TailBuffer out = new TailBuffer(request.maxOutput());
    TailBuffer err = new TailBuffer(request.maxOutput());
    ProcessGroupMarker marker = new ProcessGroupMarker(err);
    // stdin, stdout and stderr are moved on this thread while it waits: no thread per command.
    ChannelIo io =
        new ChannelIo(
            cmd,
            withPassword ? passwordFirst(sudoPassword, request.stdin()) : request.stdin(),
            out,
            marker);
    boolean timedOut;
    try {
      timedOut = !await(cmd, io, request.timeout());
      if (timedOut && killOnTimeout) stop(cmd, io, request.become(), marker.pgid());
    } finally {
      io.finish();
    }
    SshChannels.release(cmd);
    return new ExecResult(
        timedOut ? -1 : SshChannels.exitCode(cmd),
        out.toByteArray(),
        err.toByteArray(),
        out.total(),
        err.total(),
        Duration.ofNanos(System.nanoTime() - started),
        timedOut);
  }

  /** The sudo password as the first line of stdin, then the command's own input. */
  private static byte[] passwordFirst(Secret password, byte[] stdin) {
    byte[] line = (password.reveal() + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] rest = stdin == null ? new byte[0] : stdin;
    byte[] all = new byte[line.length + rest.length];
    System.arraycopy(line, 0, all, 0, line.length);
    System.arraycopy(rest, 0, all, line.length, rest.length);
    return all;
  }

  @Override
  public String describe() {
    return settings.describe();
  }

  /**
   * The daemon's socket forwarded over this connection (direct-streamlocal), opened once, closed
   * with it.
   */
  @Override
  public synchronized URI dockerHost(String socketPath) {
    if (closed) throw new TransportException(describe(), "the connection was already closed");
    if (dockerForward == null)
      dockerForward = new SshSocketForward(this::connected, socketPath, settings.name());
    return dockerForward.uri();
  }

  @Override
  public void close() {
    closed = true;
    if (dockerForward != null) dockerForward.close();
    drop();
  }

  // ---- connection

  private SSHClient open() throws ConnectFailure {
    limit.reserve(this);
    try {
      SSHClient c = login();
      limit.opened(this);
      return c;
    } catch (ConnectFailure | RuntimeException e) {
      limit.failed();
      throw e;
    }
  }

  private SSHClient login() throws ConnectFailure {
    List<SshSettings> jumps = settings.jumps();
    List<SSHClient> opened = new ArrayList<>();
    try {
      SSHClient previous = null;
      for (int i = 0; i < jumps.size(); i++) {
        previous = login(jumps.get(i), hopKeys.get(i), previous, i == 0 ? null : jumps.get(i - 1));
        opened.add(previous);
      }
      SSHClient c =
          login(settings, keys, previous, jumps.isEmpty() ? null : jumps.get(jumps.size() - 1));
      hops = List.copyOf(opened);
      return c;
    } catch (ConnectFailure | RuntimeException e) {
      for (int i = opened.size() - 1; i >= 0; i--) disconnectQuietly(opened.get(i));
      throw e;
    }
  }

  /**
   * Connects to and logs in to one host: over TCP, or through a channel of {@code through}, the
   * connection to the jump host {@code hop}.
   */
  private SSHClient login(SshSettings settings, SshKeys keys, SSHClient through, SshSettings hop)
      throws ConnectFailure {
    @SuppressWarnings(
        "ReferenceEquality") // this host's own settings object, not an equal jump host
    boolean target = settings == this.settings;
    String prefix =
        target
            ? ""
            : "jump host "
                + settings.name()
                + " ("
                + settings.user()
                + "@"
                + settings.host()
                + ":"
                + settings.port()
                + "): ";
    int ms = (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis());
    SSHClient c = new SSHClient(config);
    c.setConnectTimeout(ms);
    c.setTimeout(
        ms); // socket reads while handshaking: a frozen host accepts TCP but never says a word
    c.getTransport().setTimeoutMs(ms);
    c.getConnection().setTimeoutMs(ms);
    // No keep-alive interval: sshj would start a keep-alive thread per connection. SshKeepAlives
    // sends them
    // for all connections from one thread once this one is up.
    c.getConnection().getKeepAlive().setKeepAliveInterval(0);
    KnownHostsVerifier verifier;
    try {
      verifier =
          new KnownHostsVerifier(
              settings.knownHosts(), settings.moreKnownHosts(), settings.hostKeyPolicy());
    } catch (IOException e) {
      throw new ConnectFailure(
          prefix
              + "cannot read known hosts file "
              + settings.knownHosts()
              + ": "
              + SshFailures.describe(e),
          false,
          e);
    }
    c.addHostKeyVerifier(verifier);
    if (through != null) {
      DirectConnection tunnel;
      try {
        tunnel = through.newDirectConnection(settings.host(), settings.port());
      } catch (IOException e) {
        throw new ConnectFailure(
            "jump host "
                + hop.name()
                + " ("
                + hop.host()
                + ":"
                + hop.port()
                + ") could not open a connection to "
                + settings.host()
                + ":"
                + settings.port()
                + " for "
                + settings.name()
                + ": "
                + SshFailures.describe(e)
                + ". Check the address (HostName, ansible_host)"
                + " and port of "
                + settings.name()
                + ", and that "
                + hop.name()
                + " can reach it.",
            SshFailures.isTransient(e, null),
            e);
      }
      try {
        c.connectVia(tunnel);
        c.auth(settings.user(), keys.methods());
        c.getConnection().sendGlobalRequest("keepalive@openssh.com", true, new byte[0]);
        SshKeepAlives.watch(c, KEEP_ALIVE_SECONDS, KEEP_ALIVE_MISSES);
      } catch (IOException e) {
        disconnectQuietly(c);
        throw new ConnectFailure(
            prefix + SshFailures.connect(settings, e, verifier, keys, true, !prefix.isEmpty()),
            SshFailures.isTransient(e, verifier),
            e);
      }
      return c;
    }
    try {
      c.connect(settings.host(), settings.port());
      // Each command is a few small SSH packets answered by a few small packets: with Nagle's
      // algorithm
      // every exec waited on the peer's delayed ACK (about 40 ms on Linux); without it an exec on
      // an open
      // connection takes 2-4 ms (bench/profile.sh measured both).
      c.getSocket().setTcpNoDelay(true);
      c.auth(settings.user(), keys.methods());
      // From now on keep-alives watch the connection, however long it idles. The reader thread is
      // still
      // blocked in a read begun with the handshake time-out; a reply wakes it so its next read has
      // none.
      c.getSocket().setSoTimeout(0);
      c.getConnection().sendGlobalRequest("keepalive@openssh.com", true, new byte[0]);
      SshKeepAlives.watch(c, KEEP_ALIVE_SECONDS, KEEP_ALIVE_MISSES);
      return c;
    } catch (IOException e) {
      boolean tcpConnected = c.getSocket() != null && c.getSocket().isConnected();
      disconnectQuietly(c);
      throw new ConnectFailure(
          prefix
              + SshFailures.connect(settings, e, verifier, keys, tcpConnected, !prefix.isEmpty()),
          SshFailures.isTransient(e, verifier),
          e);
    }
  }

  /** The live connection, reconnecting first if it was lost. */
  private SSHClient connected() {
    SSHClient live = client;
    if (live != null && live.isConnected() && live.isAuthenticated()) return live;
    conn.lock();
    try {
      return reconnect();
    } finally {
      conn.unlock();
    }
  }

  private SSHClient reconnect() {
    if (closed) throw new TransportException(describe(), "the connection was already closed");
    SSHClient live = client; // another thread may have reconnected meanwhile
    if (live != null && live.isConnected() && live.isAuthenticated()) return live;
    drop();
    ConnectFailure last = null;
    for (int attempt = 0; attempt <= RECONNECT_BACKOFF_MS.length; attempt++) {
      if (attempt > 0) sleep(RECONNECT_BACKOFF_MS[attempt - 1]);
      try {
        client = open();
        return client;
      } catch (ConnectFailure f) {
        if (!f.isTransient) throw new TransportException(describe(), f.getMessage(), f.getCause());
        last = f;
      }
    }
    throw new TransportException(
        describe(),
        "the connection was lost and "
            + (RECONNECT_BACKOFF_MS.length + 1)
            + " attempts to reconnect failed; the last: "
            + last.getMessage(),
        last.getCause());
  }

  private void drop() {
    conn.lock();
    try {
      SSHClient c = client;
      client = null;
      List<SSHClient> under = hops;
      hops = List.of();
      if (c != null) {
        disconnectQuietly(c);
        limit.closed(this);
      }
      for (int i = under.size() - 1; i >= 0; i--) disconnectQuietly(under.get(i));
    } finally {
      conn.unlock();
    }
  }

  private static void disconnectQuietly(SSHClient c) {
    try {
      c.disconnect();
    } catch (IOException | RuntimeException ignored) {
      // already broken; nothing more to release
    }
  }

  /** Whether the host still answers protocol requests, within {@link #KILL_GRACE}. */
  private boolean answers() {
    try {
      Promise<SSHPacket, ConnectionException> reply =
          client.getConnection().sendGlobalRequest("keepalive@openssh.com", true, new byte[0]);
      try {
        reply.tryRetrieve(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ConnectionException refused) {
        // OpenSSH answers "request failed": an answer all the same
      }
      return reply.isFulfilled() && client.isConnected();
    } catch (IOException e) {
      return false;
    }
  }

  // ---- one command

  private Session.Command start(String command) {
    for (int attempt = 1; ; attempt++) {
      SSHClient c = connected();
      Session session;
      try {
        session = c.startSession();
      } catch (IOException e) {
        // Only an explicit refusal is the host's answer; anything else (a socket closed under us
        // while
        // sshj notices the loss) means the connection is gone.
        if (SshFailures.has(e, OpenFailException.class)) {
          throw new TransportException(
              describe(),
              "the host refused a session: "
                  + SshFailures.describe(e)
                  + " (MaxSessions in its sshd_config?)");
        }
        // No channel was opened, so the command did not run: safe to try once more on a new
        // connection.
        drop();
        if (attempt >= 2) throw lost("could not open a session", e);
        continue;
      }
      try {
        return session.exec(command);
      } catch (IOException e) {
        if (!c.isConnected()) throw lost("could not start the command", e);
        SshChannels.release(session);
        throw new TransportException(
            describe(), "the host refused to run the command: " + SshFailures.describe(e));
      }
    }
  }

  /**
   * Waits until the command exits or its channel closes, moving its input and output meanwhile;
   * false when the time-out comes first.
   */
  private boolean await(Session.Command cmd, ChannelIo io, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (cmd.getExitStatus() != null || cmd.getExitSignal() != null) {
        waitForClose(io, DRAIN);
        return true;
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) return false;
      try {
        if (io.awaitClose(Math.min(POLL_MS, left))) return true;
      } catch (ConnectionException e) {
        if (SshFailures.has(e, InterruptedException.class)
            || Thread.currentThread().isInterrupted()) {
          throw interrupted(cmd);
        }
        throw lost(
            "lost the connection while a command was running; whether it finished is unknown", e);
      }
    }
  }

  /** Best effort: a command that exited may leave a daemon holding its output open. */
  private static void waitForClose(ChannelIo io, Duration limit) {
    try {
      io.awaitClose(limit.toMillis());
    } catch (ConnectionException ignored) {
      // we have the exit status; output still held open by someone else is not ours to wait for
    }
  }

  /**
   * Kills a timed-out command and everything it started in its process group: SIGTERM, then
   * SIGKILL. SSH signals reach what runs as the login user. What sudo started as another user they
   * cannot reach, and may outlive the channel: a second command run as that user kills the group.
   */
  private void stop(Session.Command cmd, ChannelIo io, Become become, long pgid) {
    SshChannels.signal(cmd, Signal.TERM);
    boolean closed = awaitClosed(io, TERM_GRACE);
    if (!closed) requireAnswering();
    if (become.enabled() && pgid > 1) {
      String group = "-" + pgid + " 2>/dev/null"; // not "-- -PGID": dash's kill rejects "--"
      run(
          ExecRequest.builder(
                  "kill -TERM " + group + " || exit 0; sleep 1; kill -KILL " + group + "; true")
              .become(become)
              .timeout(KILL_GRACE)
              .build(),
          false);
    }
    if (closed) return;
    SshChannels.signal(cmd, Signal.KILL);
    awaitClosed(io, KILL_GRACE);
    // Still open: a process that left the group holds the output. Abandon the channel; the
    // connection
    // stays usable.
  }

  private void requireAnswering() {
    if (answers()) return;
    drop();
    throw new TransportException(
        describe(),
        "a command ran into its time-out and then "
            + settings.host()
            + ":"
            + settings.port()
            + " stopped answering; the connection was dropped and the next command"
            + " reconnects. Whether the command is still running there is unknown.");
  }

  /** Waits for the channel to close, which needs every process holding its output gone. */
  private boolean awaitClosed(ChannelIo io, Duration limit) {
    try {
      return io.awaitClose(limit.toMillis());
    } catch (ConnectionException e) {
      throw lost("lost the connection while stopping a timed-out command", e);
    }
  }

  private TransportException interrupted(Session.Command cmd) {
    Thread.currentThread().interrupt();
    SshChannels.signal(cmd, Signal.KILL);
    SshChannels.release(cmd);
    return new TransportException(describe(), "interrupted while running a command");
  }

  private TransportException lost(String what, Exception e) {
    drop();
    return new TransportException(
        describe(),
        what
            + " ("
            + settings.host()
            + ":"
            + settings.port()
            + ": "
            + SshFailures.describe(e)
            + "); the next command reconnects",
        e);
  }

  private void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(describe(), "interrupted while reconnecting");
    }
  }

  /** Why a connection attempt failed, and whether another attempt may succeed. */
  private static final class ConnectFailure extends Exception {
    final boolean isTransient;

    ConnectFailure(String message, boolean isTransient, Throwable cause) {
      super(message, cause);
      this.isTransient = isTransient;
    }
  }
}
