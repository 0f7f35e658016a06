package io.runbook.execution;

import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Commands of a run still running on a host after its controller died: the SSH session ends with
 * the controller, but the command's processes do not. Before another controller acts on the host
 * (resume, rollback, or a run that took the lock over), it finds them by the tag {@link
 * RunTaggedTransport} put in their command lines, waits for them to end (up to a bound), and
 * otherwise stops their process groups (TERM, then KILL) — never acting on a host underneath a
 * command that is still changing it.
 */
final class Orphans {
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration GRACE = Duration.ofSeconds(5);

  /**
   * What was found and done. {@code processes} are "PID PGID command" lines; empty when none ran.
   */
  record Outcome(List<String> processes, String action, long waitedMillis) {
    boolean found() {
      return !processes.isEmpty();
    }
  }

  private Orphans() {}

  static String tag(String runId) {
    return "runbook-run=" + runId + ";";
  }

  /**
   * Lists the run's processes on the host. The script never holds the tag itself (it is put
   * together at run time), so it does not find itself; it reads /proc, which needs no tool the host
   * may lack.
   */
  static String listScript(String runId) {
    String id = runId.replaceAll("[^A-Za-z0-9._-]", "");
    return "t='runbook-run'; t=\"$t="
        + id
        + ";\"; me=$$; "
        + "for d in /proc/[0-9]*; do p=${d#/proc/}; [ \"$p\" = \"$me\" ] && continue; "
        + "c=$(tr '\\0' ' ' < \"$d/cmdline\" 2>/dev/null) || continue; "
        + "case \"$c\" in *\"$t\"*) ;; *) continue ;; esac; "
        + "s=$(cat \"$d/stat\" 2>/dev/null) || continue; s=${s##*) }; set -- $s; "
        + "echo \"$p $3 $(printf %.160s \"$c\")\"; done; true";
  }

  /** Waits up to {@code wait} for the run's commands on the host to end, then stops them. */
  static Outcome settle(Transport t, Become become, String runId, Duration wait) {
    long start = System.nanoTime();
    List<String> first = list(t, runId);
    if (first.isEmpty()) return new Outcome(List.of(), "none", 0);
    long deadline = start + wait.toNanos();
    List<String> now = first;
    while (!now.isEmpty() && System.nanoTime() < deadline) {
      sleep(POLL);
      now = list(t, runId);
    }
    if (now.isEmpty()) return new Outcome(first, "ended", millisSince(start));
    for (String signal : List.of("TERM", "KILL")) {
      kill(t, become, signal, now);
      long graceEnd = System.nanoTime() + GRACE.toNanos();
      do {
        sleep(POLL);
        now = list(t, runId);
      } while (!now.isEmpty() && System.nanoTime() < graceEnd);
      if (now.isEmpty()) return new Outcome(first, "stopped", millisSince(start));
    }
    return new Outcome(now, "left", millisSince(start));
  }

  static List<String> list(Transport t, String runId) {
    ExecResult r =
        t.exec(ExecRequest.builder(listScript(runId)).timeout(Duration.ofSeconds(60)).build());
    List<String> out = new ArrayList<>();
    r.stdoutText().lines().filter(l -> l.matches("\\d+ \\d+ .*")).forEach(out::add);
    return out;
  }

  private static void kill(Transport t, Become become, String signal, List<String> processes) {
    Set<String> targets = new LinkedHashSet<>();
    for (String p : processes) {
      String[] f = p.split(" ", 3);
      if (Long.parseLong(f[1]) > 1) targets.add("-" + f[1]); // the whole group: sudo's children too
      targets.add(f[0]);
    }
    String cmd =
        "for p in "
            + String.join(" ", targets)
            + "; do kill -"
            + signal
            + " \"$p\" 2>/dev/null; done; true";
    t.exec(ExecRequest.builder(cmd).become(become).timeout(Duration.ofSeconds(30)).build());
  }

  private static long millisSince(long start) {
    return Duration.ofNanos(System.nanoTime() - start).toMillis();
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException("controller", "interrupted");
    }
  }
}
