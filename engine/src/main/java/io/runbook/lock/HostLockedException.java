package io.runbook.lock;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/** A host is locked by another run, or a run lost its lock to another run. */
public class HostLockedException extends RunbookException {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final String host;
  private final transient HostLock.Holder holder;

  private HostLockedException(String host, HostLock.Holder holder, String message) {
    super(ErrorCode.HOST_FAILED, message);
    this.host = host;
    this.holder = holder;
  }

  /** A run was refused because {@code holder} holds a live lock on {@code host}. */
  static HostLockedException lockedBy(String host, HostLock.Holder holder) {
    return new HostLockedException(
        host,
        holder,
        host
            + " is locked by "
            + describe(holder)
            + ": wait for it to finish, or if that run is dead, pass --break-lock");
  }

  /** {@code runId} renewed its lock on {@code host} and found it gone or held by another run. */
  static HostLockedException lost(String host, String runId, Optional<HostLock.Holder> now) {
    String where = now.map(h -> "it was taken over by " + describe(h)).orElse("it was removed");
    return new HostLockedException(
        host,
        now.orElse(null),
        host
            + ": run "
            + runId
            + " no longer holds the"
            + " host lock; "
            + where
            + ". Stop changing "
            + host
            + ": another run may be changing it");
  }

  public String host() {
    return host;
  }

  /** Who holds the lock now, if anyone. */
  public Optional<HostLock.Holder> holder() {
    return Optional.ofNullable(holder);
  }

  /** {@code run R (alice@laptop, since 2026-11-21T21:30:04Z, lease until 21:35:04Z)}. */
  static String describe(HostLock.Holder h) {
    return "run "
        + h.runId()
        + " ("
        + h.user()
        + "@"
        + h.controller()
        + ", since "
        + iso(h.started())
        + ", lease until "
        + until(h.started(), h.expires())
        + ")";
  }

  private static String iso(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** The time of day alone when the lease ends on the day it started, which is nearly always. */
  private static String until(Instant started, Instant expires) {
    boolean sameDay =
        started
            .atOffset(ZoneOffset.UTC)
            .toLocalDate()
            .equals(expires.atOffset(ZoneOffset.UTC).toLocalDate());
    return sameDay ? TIME.format(expires) : iso(expires);
  }
}
