package io.runbook.lock;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.lock.LockScript.Op;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The lock a run takes on a host before changing it: the directory {@value #DEFAULT_PATH} (or the
 * host's {@code runbook_lock_path}) with a {@code holder} file naming the run, controller, user,
 * start time and lease. A lease that is not renewed expires, so a dead controller does not lock a
 * host forever; the next run takes the lock over and says from whom.
 *
 * <p>Each operation is one exec of a small shell script on the host (see {@link LockScript}). Lease
 * times come from the host's clock ({@code date +%s}) and are only ever compared with it, so a
 * controller whose clock is off does not expire or keep locks early or late.
 *
 * <p>The lock is taken as the login user, never through {@code become}: a plain user must be able
 * to see who holds it, and {@code /var/tmp} is writable by everyone. Because {@code /var/tmp} is
 * sticky, a stale or broken lock left by another login user can only be taken over by that user or
 * root; the error says so.
 *
 * <p>Each operation uses the given transport, so like every transport call, {@link #renew()} must
 * not run while another thread uses the same transport.
 */
public final class HostLock {

  /** Who holds a lock. Times are the host's clock. */
  public record Holder(
      String runId,
      String controller,
      String user,
      String session,
      Instant started,
      Instant expires) {
    public Holder(String runId, String controller, String user, Instant started, Instant expires) {
      this(runId, controller, user, UNKNOWN, started, expires);
    }

    public Holder {
      Objects.requireNonNull(runId, "runId");
      session = session == null ? UNKNOWN : session;
      Objects.requireNonNull(controller, "controller");
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(started, "started");
      Objects.requireNonNull(expires, "expires");
    }
  }

  public static final Duration DEFAULT_LEASE = Duration.ofMinutes(5);

  /**
   * This controller process: a lock is this run's only if it names the run <em>and</em> this
   * session, so that a second controller of the same run (resume, rollback) takes the lock over and
   * the first one stops.
   */
  public static final String SESSION = HexFormat.of().formatHex(randomBytes());

  public static final String DEFAULT_PATH = "/var/tmp/runbook.lock";

  /** What a holder file that does not say shows as (a lock whose writer died before writing it). */
  static final String UNKNOWN = "?";

  /** A lock script waits up to about 40 s for another controller's few milliseconds. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);

  private static byte[] randomBytes() {
    byte[] b = new byte[8];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private final Transport transport;
  private final String host;
  private final String lockPath;
  private final Duration lease;
  private final Holder tookOverFrom;
  private volatile Holder holder;

  private HostLock(
      Transport transport,
      String host,
      String lockPath,
      Duration lease,
      Holder holder,
      Holder tookOverFrom) {
    this.transport = transport;
    this.host = host;
    this.lockPath = lockPath;
    this.lease = lease;
    this.holder = holder;
    this.tookOverFrom = tookOverFrom;
  }

  /**
   * Takes the lock at {@link #DEFAULT_PATH} or throws {@link HostLockedException} naming the
   * holder. A lock whose lease expired is taken over ({@link #tookOverFrom()} says from whom).
   * {@code breakLock} takes it whatever its state. A lock this run already holds (a retried
   * acquire) is simply renewed.
   *
   * @param host the inventory name of the host, for messages
   * @param lease how long the lock outlives its last renewal; whole seconds, at least one
   */
  public static HostLock acquire(
      Transport t,
      String host,
      String runId,
      String controller,
      String user,
      Duration lease,
      boolean breakLock) {
    return acquire(t, host, runId, controller, user, lease, breakLock, DEFAULT_PATH);
  }

  /**
   * {@link #acquire(Transport, String, String, String, String, Duration, boolean)} at {@code
   * lockPath}.
   */
  public static HostLock acquire(
      Transport t,
      String host,
      String runId,
      String controller,
      String user,
      Duration lease,
      boolean breakLock,
      String lockPath) {
    return acquire(t, host, runId, controller, user, lease, breakLock, lockPath, SESSION);
  }

  /**
   * As {@link #acquire(Transport, String, String, String, String, Duration, boolean, String)} for
   * the controller {@code session}. The same run from another session takes a live lock over: that
   * is a resume or rollback of the run while its first controller may still be alive, which then
   * stops at its next guarded command.
   */
  public static HostLock acquire(
      Transport t,
      String host,
      String runId,
      String controller,
      String user,
      Duration lease,
      boolean breakLock,
      String lockPath,
      String session) {
    String path = pathOrDefault(lockPath);
    long seconds = leaseSeconds(lease);
    Output out =
        run(
            t,
            host,
            breakLock ? Op.BREAK : Op.ACQUIRE,
            path,
            field("run id", runId),
            field("controller", controller),
            field("user", user),
            field("session", session),
            seconds);
    Holder current = out.holder().orElseThrow(() -> unexpected(host, "acquire", out));
    if (out.status().equals("held")) throw HostLockedException.lockedBy(host, current);
    if (!out.status().equals("acquired")) throw unexpected(host, "acquire", out);
    return new HostLock(
        t, host, path, Duration.ofSeconds(seconds), current, out.previous().orElse(null));
  }

  /** Who holds the lock at {@link #DEFAULT_PATH}, whether or not the lease has expired. */
  public static Optional<Holder> read(Transport t) {
    return read(t, DEFAULT_PATH);
  }

  /** Who holds the lock at {@code lockPath}, whether or not the lease has expired. */
  public static Optional<Holder> read(Transport t, String lockPath) {
    return run(t, t.describe(), Op.READ, pathOrDefault(lockPath), "", "", "", "", 0).holder();
  }

  /** The stale or broken holder this lock replaced, for the journal. */
  public Optional<Holder> tookOverFrom() {
    return Optional.ofNullable(tookOverFrom);
  }

  public Holder holder() {
    return holder;
  }

  public String lockPath() {
    return lockPath;
  }

  public Duration lease() {
    return lease;
  }

  /**
   * Extends the lease to the lease length from now; call it at least every lease/3.
   *
   * @throws HostLockedException if the lock is no longer this run's (it was broken, and maybe taken
   *     by another run): the caller must stop changing the host
   */
  public void renew() {
    Holder h = holder;
    Output out =
        run(
            transport,
            host,
            Op.RENEW,
            lockPath,
            h.runId(),
            h.controller(),
            h.user(),
            h.session(),
            lease.toSeconds());
    switch (out.status()) {
      case "renewed" -> holder = out.holder().orElseThrow(() -> unexpected(host, "renew", out));
      case "lost" -> throw HostLockedException.lost(host, h.runId(), out.holder());
      default -> throw unexpected(host, "renew", out);
    }
  }

  /**
   * Removes the lock if it is still this run's; a lock that is gone or was taken by another run is
   * left alone without complaint.
   *
   * @throws io.runbook.transport.TransportException when the host cannot be reached (the lease then
   *     expires by itself)
   */
  public void release() {
    Holder h = holder;
    run(transport, host, Op.RELEASE, lockPath, h.runId(), h.controller(), h.user(), h.session(), 0);
  }

  /**
   * A shell line that lets the command after it run only while this lock is still this
   * controller's, with builtins alone (no process is started): put in front of every step's
   * command, it makes a controller whose lock was broken or taken over stop at its next command,
   * with exit code {@link #LOST_EXIT} and {@link #LOST_MARK} on stderr, instead of running on
   * beside the new holder.
   */
  public String guard() {
    String holderFile = Shell.quote(lockPath + "/holder");
    return "_rb=; [ -r "
        + holderFile
        + " ] && while IFS= read -r _l; do case \"$_l\" in "
        + Shell.quote("session=" + holder.session())
        + "|"
        + Shell.quote("run_id=" + holder.runId())
        + ") _rb=\"$_rb.\" ;; esac; done < "
        + holderFile
        + "; [ \"$_rb\" = .. ] || { echo "
        + LOST_MARK
        + " >&2; exit "
        + LOST_EXIT
        + "; }; ";
  }

  /** The exit code of a command whose {@link #guard()} found the lock gone. */
  public static final int LOST_EXIT = 86;

  public static final String LOST_MARK = "runbook-lock-lost";

  @Override
  public String toString() {
    return host + ":" + lockPath + " held by " + HostLockedException.describe(holder);
  }

  private static Output run(
      Transport t,
      String host,
      Op op,
      String path,
      String runId,
      String controller,
      String user,
      String session,
      long leaseSeconds) {
    String script = LockScript.of(op, path, runId, controller, user, session, leaseSeconds);
    ExecResult r =
        t.exec(ExecRequest.builder(script).become(Become.NONE).timeout(SCRIPT_TIMEOUT).build());
    if (r.exitCode() != 0) {
      String why =
          r.timedOut()
              ? "timed out after " + SCRIPT_TIMEOUT.toSeconds() + " s"
              : r.stderrText().strip();
      // /var/tmp is sticky: only the login user who made a lock (or root) may move it aside.
      String hint =
          why.contains("Permission denied") || why.contains("not permitted")
              ? "; a lock made by another login user can only be removed by that user or root"
              : "";
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host
              + ": cannot "
              + op.name().toLowerCase(Locale.ROOT)
              + " the host lock "
              + path
              + ": "
              + (why.isEmpty() ? "exit code " + r.exitCode() : why)
              + hint);
    }
    return Output.parse(r.stdoutText());
  }

  private static RunbookException unexpected(String host, String op, Output out) {
    return new RunbookException(
        ErrorCode.INTERNAL,
        host
            + ": unexpected answer from the host lock script ("
            + op
            + "): status="
            + out.status());
  }

  private static String pathOrDefault(String lockPath) {
    return lockPath == null || lockPath.isBlank() ? DEFAULT_PATH : lockPath;
  }

  private static long leaseSeconds(Duration lease) {
    Duration l = lease == null ? DEFAULT_LEASE : lease;
    if (l.toSeconds() < 1) throw new IllegalArgumentException("lease must be at least 1 s: " + l);
    return l.toSeconds();
  }

  /** The holder file is key=value lines, so a value must stay on its line. */
  private static String field(String name, String value) {
    if (value == null || value.isBlank()) throw new IllegalArgumentException("no " + name);
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(name + " contains a control character: " + value);
    }
    return value;
  }

  /** The script's answer: a status and the holder sections. */
  private record Output(String status, Optional<Holder> holder, Optional<Holder> previous) {

    static Output parse(String text) {
      Map<String, Map<String, String>> sections = new HashMap<>();
      Map<String, String> current = sections.computeIfAbsent("", k -> new HashMap<>());
      for (String line : text.lines().toList()) {
        if (line.startsWith("[") && line.endsWith("]")) {
          current =
              sections.computeIfAbsent(line.substring(1, line.length() - 1), k -> new HashMap<>());
        } else if (line.indexOf('=') > 0) {
          current.putIfAbsent(
              line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
        }
      }
      return new Output(
          sections.get("").getOrDefault("status", ""),
          Optional.ofNullable(sections.get("holder")).map(Output::holderOf),
          Optional.ofNullable(sections.get("previous")).map(Output::holderOf));
    }

    private static Holder holderOf(Map<String, String> f) {
      Instant started = epoch(f.get("started"), Instant.EPOCH);
      return new Holder(
          f.getOrDefault("run_id", UNKNOWN),
          f.getOrDefault("controller", UNKNOWN),
          f.getOrDefault("user", UNKNOWN),
          f.getOrDefault("session", UNKNOWN),
          started,
          epoch(f.get("expires"), started));
    }

    private static Instant epoch(String seconds, Instant otherwise) {
      try {
        return seconds == null ? otherwise : Instant.ofEpochSecond(Long.parseLong(seconds.strip()));
      } catch (NumberFormatException e) {
        return otherwise;
      }
    }
  }
}
