package io.runbook.model;

import java.util.List;
import java.util.Locale;

/**
 * The phases of an upgrade, in the order they run on a host. {@code rollback} is not run forward:
 * it runs after a failure, once the failed host's rollback stack is empty.
 */
public enum Phase {
  PREFLIGHT("checks that change nothing: versions, disk space, config against the new schema"),
  BACKUP("copies of data and config that a rollback restores"),
  PULL("fetch the new release"),
  MIGRATE("bring the database to the new release's schema"),
  DEPLOY("switch to the new release: stop, swap, start"),
  VERIFY("prove the new release works: health checks"),
  CLEANUP(
      "after a verified upgrade: prune what is no longer needed; a failure here does not roll back"),
  GATE("the rollout's health gate, run on each upgraded host of a batch before the next batch"),
  ROLLBACK("runs after a failure, once the steps' own rollback handlers have run"),
  BEFORE_ALL("once for the whole run, on one host: after every target's preflight, before batch 1"),
  AFTER_ALL(
      "once for the whole run, on one host: after the last batch passed; a failure does not roll back");

  /** The phases that run forward, in order. */
  public static final List<Phase> FORWARD =
      List.of(PREFLIGHT, BACKUP, PULL, MIGRATE, DEPLOY, VERIFY, CLEANUP);

  private final String description;

  Phase(String description) {
    this.description = description;
  }

  /** The per-host phases a runbook lists under {@code phases:} or a mode. */
  public static final List<Phase> PER_HOST =
      List.of(PREFLIGHT, BACKUP, PULL, MIGRATE, DEPLOY, VERIFY, CLEANUP, ROLLBACK);

  /**
   * Past these, the upgrade holds: a failure is reported but rolls nothing back, and a change that
   * cannot be undone makes a later rollback refuse (see {@code rollback --after-cleanup}).
   */
  public boolean keepsUpgrade() {
    return this == CLEANUP || this == AFTER_ALL;
  }

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public String description() {
    return description;
  }

  public static Phase of(String key) {
    return valueOf(key.toUpperCase(Locale.ROOT));
  }
}
