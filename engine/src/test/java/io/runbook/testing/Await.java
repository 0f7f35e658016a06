package io.runbook.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * Waits on a condition instead of sleeping a fixed time that a slow machine overruns or a fast one
 * wastes.
 */
public final class Await {
  private Await() {}

  /**
   * Polls {@code condition} every 20 ms until it holds; fails the test when {@code timeout} passes
   * first.
   */
  public static void until(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline)
        throw new AssertionError("not within " + timeout + ": " + what);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting: " + what, e);
      }
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
