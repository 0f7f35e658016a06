package io.runbook.testing;

import java.time.Duration;
import java.util.List;

/** What is running on this machine, for tests that must see a command really killed. */
public final class Processes {
  private Processes() {}

  /**
   * The command lines of this machine's processes that contain {@code text}, after giving a kill in
   * progress up to two seconds to land: empty means none is left.
   */
  public static List<String> running(String text) {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    List<String> found;
    do {
      found =
          ProcessHandle.allProcesses()
              .map(p -> p.info().commandLine().orElse(""))
              .filter(c -> c.contains(text))
              .toList();
      if (found.isEmpty()) return found;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return found;
      }
    } while (System.nanoTime() < deadline);
    return found;
  }
}
