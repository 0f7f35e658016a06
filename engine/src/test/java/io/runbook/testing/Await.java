package io.runbook.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Waits on a condition instead of sleeping a fixed time that a slow machine overruns or a fast one
 * wastes.
 */
public final class Await {
  private Await() {}

  /** A condition that may read a file or run a command to find out. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /**
   * Polls {@code condition} every 20 ms until it holds; fails the test when {@code timeout} passes
   * first.
   */
  public static void until(Duration timeout, String what, Condition condition) {
    until(timeout, () -> what, condition);
  }

  /** Like {@link #until(Duration, String, Condition)}, saying what it saw last when it fails. */
  public static void until(Duration timeout, Supplier<String> what, Condition condition) {
    if (!within(timeout, condition))
      throw new AssertionError("not within " + timeout + ": " + what.get());
  }

  /**
   * Polls {@code condition} every 20 ms until it holds or {@code timeout} passes, and says which:
   * for a wait whose running out is an outcome the test goes on to check, not a failure.
   */
  public static boolean within(Duration timeout, Condition condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check(condition)) {
      if (System.nanoTime() > deadline) return false;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting", e);
      }
    }
    return true;
  }

  private static boolean check(Condition condition) {
    try {
      return condition.holds();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("could not check the condition: " + e, e);
    }
  }

  /**
   * Until the clock is past {@code instant} by a whole second: leases are written in whole seconds
   * and compared by {@code date +%s} on the host, so a lease has surely run out only then.
   */
  public static void past(Instant instant) {
    Instant after = instant.plusSeconds(1);
    until(
        Duration.between(Instant.now(), after).plusSeconds(5),
        "the clock passes " + after,
        () -> Instant.now().isAfter(after));
  }
}
