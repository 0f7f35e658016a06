package io.runbook.step;

import io.runbook.RunbookException;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.TransportException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A whole file written to a host the way {@code copy} and {@code template} want it: only when its
 * checksum, mode or owner differ, atomically, and remembering what it replaced so that the step can
 * undo.
 *
 * <p>Undo has nothing but the step's result to go on, so the replaced bytes ride in the result's
 * private data ({@value #PREVIOUS_CONTENT}, up to {@link #UNDO_LIMIT} bytes; a {@code _} key is
 * never registered, journaled or printed, since config files hold secrets); larger files are undone
 * only from a {@code backup: true} copy on the host.
 */
final class RemoteFile {
  static final int UNDO_LIMIT = 1 << 20;
  static final String PREVIOUS_CONTENT = "_previous_content_base64";
  private static final DateTimeFormatter BACKUP_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private RemoteFile() {}

  /** What is at a path now; {@code mode} is octal as stat prints it ("644"). */
  private record State(
      boolean exists, boolean directory, String checksum, String mode, String owner, long size) {}

  /**
   * Writes {@code content} to {@code dest} unless the host already has it; CHANGED when it wrote.
   */
  static StepResult put(
      StepContext ctx, String dest, byte[] content, String mode, String owner, boolean backup) {
    ExecResult r = ctx.exec(inspect(dest));
    if (r.exitCode() != 0) return failed(r, "cannot read " + dest);
    State now = parse(r.stdoutText());
    if (now == null) {
      return StepResult.failed(
          "cannot inspect "
              + dest
              + ": unexpected answer '"
              + r.stdoutText().strip()
              + "' (the host needs sha256sum and GNU stat)");
    }
    if (now.directory())
      return StepResult.failed(dest + " is a directory; give the full path of the file");
    String checksum = sha256(content);
    boolean sameContent = now.exists() && checksum.equals(now.checksum());
    boolean sameMode =
        mode == null
            || (now.exists() && Integer.parseInt(mode, 8) == Integer.parseInt(now.mode(), 8));
    // owner "app" is compared with the user only, "app:www" with user and group.
    String ownerNow =
        now.exists() && owner != null && !owner.contains(":")
            ? now.owner().split(":", 2)[0]
            : now.owner();
    boolean sameOwner = owner == null || owner.equals(ownerNow);
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("dest", dest);
    data.put("checksum", checksum);
    data.put("previous_checksum", now.exists() ? now.checksum() : "");
    if (sameContent && sameMode && sameOwner)
      return StepResult.ok(dest + " is up to date").withData(data);

    String message =
        (!now.exists() ? "created " : sameContent ? "changed mode/owner of " : "updated ") + dest;
    if (now.exists()) {
      data.put("previous_mode", now.mode());
      if (owner != null) data.put("previous_owner", now.owner());
    }
    if (now.exists() && !sameContent) {
      if (backup) {
        String bak = dest + "." + LocalDateTime.now(ZoneOffset.UTC).format(BACKUP_STAMP) + "~";
        ExecResult b = ctx.exec("cp -p " + Shell.quote(dest) + " " + Shell.quote(bak));
        if (b.exitCode() != 0) return failed(b, "cannot back up " + dest);
        data.put("backup_file", bak);
      }
      if (now.size() <= UNDO_LIMIT) {
        Read old = read(ctx, dest);
        if (old.failure() != null) return old.failure();
        data.put(PREVIOUS_CONTENT, Base64.getEncoder().encodeToString(old.bytes()));
      } else if (!backup) {
        message +=
            " (the old file is over 1 MiB: no automatic undo; set backup: true or give rollback:)";
      }
    }
    // Everything the undo needs is known now, before the host changes: journal it, so a controller
    // that
    // dies during the upload leaves a step the next one can still undo.
    ctx.checkpoint(data);
    if (!sameContent) {
      try {
        ctx.transport().upload(content, dest, mode, ctx.become());
      } catch (RunbookException e) {
        return refused(e);
      }
    }
    StepResult done = StepResult.changed(message).withData(data);
    List<String> fixes = new ArrayList<>();
    if (sameContent && !sameMode) fixes.add("chmod " + Shell.quote(mode) + " " + Shell.quote(dest));
    if (!sameOwner) fixes.add("chown " + Shell.quote(owner) + " " + Shell.quote(dest));
    ExecResult f = fixes.isEmpty() ? null : ctx.exec(String.join(" && ", fixes));
    if (f != null && f.exitCode() != 0) {
      // The engine undoes completed steps only, so a failed step must not leave a half-made file
      // behind.
      inverse(done).ifPresent(u -> u.run(ctx));
      StepResult failure = failed(f, "cannot set mode/owner of " + dest);
      return failure.withStatus(Status.FAILED, failure.message() + "; the file is back as it was");
    }
    return done;
  }

  /** The inverse of a {@link #put} that changed something, read from its result's data. */
  static Optional<Step.Undo> undo(StepResult result) {
    return inverse(result).map(u -> u);
  }

  private static Optional<HostUndo> inverse(StepResult result) {
    if (!result.changed()) return Optional.empty();
    Map<String, Object> d = result.data();
    String dest = (String) d.get("dest");
    String q = Shell.quote(dest);
    String previous = (String) d.get("previous_checksum");
    if (previous == null || previous.isEmpty()) {
      return Optional.of(new HostUndo("delete " + dest, dest, null, "rm -f " + q));
    }
    String mode = (String) d.get("previous_mode");
    String attrs =
        "chmod "
            + mode
            + " "
            + q
            + (d.get("previous_owner") instanceof String o
                ? " && chown " + Shell.quote(o) + " " + q
                : "");
    if (previous.equals(d.get("checksum"))) {
      return Optional.of(new HostUndo("restore mode/owner of " + dest, dest, null, attrs));
    }
    if (d.get(PREVIOUS_CONTENT) instanceof String b64) {
      return Optional.of(
          new HostUndo("restore previous " + dest, dest, Base64.getDecoder().decode(b64), attrs));
    }
    if (d.get("backup_file") instanceof String bak) {
      String cp = "cp -p " + Shell.quote(bak) + " " + q;
      return Optional.of(new HostUndo("restore " + dest + " from " + bak, dest, null, cp));
    }
    return Optional.empty();
  }

  /** The bytes of a host file, or the failed result saying why they cannot be read. */
  // a file's bytes, handed on; never compared
  @SuppressWarnings("ArrayRecordComponent")
  record Read(byte[] bytes, StepResult failure) {}

  static Read read(StepContext ctx, String path) {
    try {
      return new Read(ctx.transport().download(path, ctx.become()), null);
    } catch (RunbookException e) {
      return new Read(null, refused(e));
    }
  }

  static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /**
   * A file the host refuses to write or read is this step's failure. A lost connection is not
   * caught here: it is a {@link io.runbook.transport.TransportException}, which the engine handles
   * for the host.
   */
  private static StepResult refused(RunbookException e) {
    if (e instanceof TransportException lost) throw lost;
    return StepResult.failed(e.getMessage());
  }

  private static StepResult failed(ExecResult r, String what) {
    String lastLine = r.stderrText().strip().lines().reduce((a, b) -> b).orElse("");
    return StepResult.fromExec(r)
        .withStatus(Status.FAILED, what + (lastLine.isEmpty() ? "" : ": " + lastLine));
  }

  /**
   * One line: "directory", "absent" or "file MODE USER:GROUP SIZE SHA256". stat -L follows
   * symlinks.
   */
  private static String inspect(String path) {
    return "p="
        + Shell.quote(path)
        + "; if [ -d \"$p\" ]; then echo directory; "
        + "elif [ ! -e \"$p\" ]; then echo absent; "
        + "else s=$(sha256sum < \"$p\") && echo \"file $(stat -L -c '%a %U:%G %s' \"$p\") ${s%% *}\"; fi";
  }

  /** Null when the answer is not what {@link #inspect} prints (a host without GNU stat, say). */
  private static State parse(String out) {
    String[] f = out.strip().split("\\s+", -1);
    if (f[0].equals("directory")) return new State(true, true, null, null, null, 0);
    if (f[0].equals("absent")) return new State(false, false, null, null, null, 0);
    if (f.length == 5
        && f[0].equals("file")
        && f[1].matches("[0-7]+")
        && f[3].matches("\\d+")
        && f[4].length() == 64) {
      return new State(true, false, f[4], f[1], f[2], Long.parseLong(f[3]));
    }
    return null;
  }

  /**
   * Undo by re-uploading the old bytes (when kept), then a shell command for mode, owner or
   * removal.
   */
  // the previous content to write back; never compared
  @SuppressWarnings("ArrayRecordComponent")
  private record HostUndo(String description, String dest, byte[] content, String command)
      implements Step.Undo {
    @Override
    public StepResult run(StepContext ctx) {
      if (content != null) {
        try {
          ctx.transport().upload(content, dest, null, ctx.become());
        } catch (RunbookException e) {
          return refused(e);
        }
      }
      ExecResult r = ctx.exec(command);
      return r.exitCode() == 0
          ? StepResult.changed(description)
          : failed(r, "cannot " + description);
    }
  }
}
