package io.runbook.lock;

import io.runbook.transport.Shell;
import java.util.Locale;

/**
 * The shell side of {@link HostLock}: one POSIX {@code sh} script per operation, run in a single
 * exec.
 *
 * <p>The lock is the directory {@code $d} holding a {@code holder} file of {@code key=value} lines.
 * Every operation first takes a short-lived mutex, the directory {@code $d.mutex} ({@code mkdir} is
 * atomic), and holds it for the few milliseconds the operation needs. That serialises everything
 * that looks at or changes the lock, which is what makes a stale takeover safe: without it, a
 * controller that judged a lock stale could move away the fresh lock another controller had just
 * put in its place. A mutex left behind by a script that was killed half-way is removed once it is
 * 30 s old; a script gives up waiting for the mutex after about 40 s. Any non-zero exit is a
 * failure, explained on stderr.
 *
 * <p>A lock directory is only ever removed by renaming it aside first, so the host never shows half
 * a lock, and the holder file is written beside itself and renamed over, so a reader never sees
 * half a holder.
 *
 * <p>Output: {@code status=...} first, then {@code [holder]} (the lock as it is now) and {@code
 * [previous]} (the holder that was taken over) sections of {@code key=value} lines. A lock
 * directory without a holder file (its writer died between the two) shows as {@code started=<its
 * mtime>} only.
 */
final class LockScript {
  enum Op {
    ACQUIRE,
    BREAK,
    RENEW,
    RELEASE,
    READ
  }

  private static final String BODY =
      """
      umask 022
      m="$d.mutex"
      if stat -c %Y / >/dev/null 2>&1; then
        mtime() { stat -c %Y "$1" 2>/dev/null; }
      else
        mtime() { stat -f %m "$1" 2>/dev/null; }
      fi
      field() { sed -n "s/^$1=//p" "$d/holder" 2>/dev/null | head -n 1; }
      show() { if [ -f "$1/holder" ]; then cat "$1/holder"; echo; else echo "started=$(mtime "$1")"; fi; }
      n=0
      until mkdir "$m" 2>/dev/null; do
        if [ ! -d "$m" ]; then
          mkdir "$m" && break
          [ -d "$m" ] && continue
          exit 70
        fi
        t=$(mtime "$m")
        case $t in *[!0-9]*) t= ;; esac
        if [ -n "$t" ] && [ $(( $(date +%s) - t )) -gt 30 ]; then
          rmdir "$m" 2>/dev/null || [ ! -d "$m" ] || {
            echo "$m is left over from a run that died while changing the lock, and cannot be removed" >&2
            exit 75
          }
          continue
        fi
        n=$((n + 1))
        if [ "$n" -gt 800 ]; then
          echo "$m has existed for too long: another controller is stuck changing the lock" >&2
          exit 75
        fi
        sleep 0.05 2>/dev/null || sleep 1
      done
      trap 'rmdir "$m" 2>/dev/null' EXIT
      trap 'exit 129' HUP INT TERM PIPE
      now=$(date +%s)
      previous=
      write() {
        printf 'run_id=%s\\ncontroller=%s\\nuser=%s\\nsession=%s\\nstarted=%s\\nexpires=%s\\n' \\
          "$rid" "$ctl" "$usr" "$sid" "$1" $((now + lease)) > "$d/holder.new" && mv -f "$d/holder.new" "$d/holder"
      }
      aside() {
        s=$(mktemp -d "$d.old.XXXXXX") || exit 71
        mv "$d" "$s/lock" || { rm -rf "$s"; exit 71; }
      }
      ours() { [ -d "$d" ] && [ "$(field run_id)" = "$rid" ] && [ "$(field session)" = "$sid" ]; }
      samerun() { [ -d "$d" ] && [ "$(field run_id)" = "$rid" ]; }
      case $op in
      acquire|break)
        if ours; then
          started=$(field started)
          write "${started:-$now}" || exit 70
          echo status=acquired; echo '[holder]'; show "$d"; exit 0
        fi
        if [ -d "$d" ]; then
          exp=$(field expires)
          case $exp in ''|*[!0-9]*) exp=0 ;; esac
          # The same run from another controller (resume, rollback) takes its run's lock over: the old
          # controller's next command finds the lock gone and stops (see HostLock).
          if [ "$op" = acquire ] && [ "$exp" -gt "$now" ] && ! samerun; then
            echo status=held; echo '[holder]'; show "$d"; exit 0
          fi
          aside
          previous=$(show "$s/lock")
          rm -rf "$s"
        fi
        mkdir "$d" || exit 70
        write "$now" || { rm -rf "$d"; exit 70; }
        echo status=acquired; echo '[holder]'; show "$d"
        if [ -n "$previous" ]; then echo '[previous]'; echo "$previous"; fi ;;
      renew)
        if ours; then
          started=$(field started)
          write "${started:-$now}" || exit 70
          echo status=renewed
        else
          echo status=lost
        fi
        if [ -d "$d" ]; then echo '[holder]'; show "$d"; fi ;;
      release)
        if ours; then aside; rm -rf "$s"; echo status=released; else echo status=gone; fi ;;
      read)
        if [ -d "$d" ]; then echo status=held; echo '[holder]'; show "$d"; else echo status=free; fi ;;
      esac
      """;

  private LockScript() {}

  static String of(
      Op op,
      String lockPath,
      String runId,
      String controller,
      String user,
      String session,
      long leaseSeconds) {
    return "d="
        + Shell.quote(lockPath)
        + "; op="
        + op.name().toLowerCase(Locale.ROOT)
        + "; rid="
        + Shell.quote(runId)
        + "; ctl="
        + Shell.quote(controller)
        + "; usr="
        + Shell.quote(user)
        + "; sid="
        + Shell.quote(session)
        + "; lease="
        + leaseSeconds
        + "\n"
        + BODY;
  }
}
