package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code restore:} puts back what a {@code backup} archived. Nothing is touched until everything
 * checks out: the archive and its path list against {@code SHA256SUMS}, then every file extracted
 * to a temporary directory against its checksum there. Then each archived path is replaced whole:
 * what is there now goes (so files the run created inside a restored directory disappear) and the
 * verified copy is renamed in — atomically for a file; for a directory the old one is renamed aside
 * first, then the new one in.
 */
public final class RestoreStep extends StepType<RestoreStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param archive the backup's {@code .tar.gz}; or give {@code dir} and {@code name}
   * @param dir the run directory of the backup (its registered {@code dir})
   * @param name the backup's name, default "backup"
   * @param verifyOnly check the checksums, change nothing
   */
  public record Args(
      String archive, String dir, String name, @JsonProperty("verify_only") Boolean verifyOnly) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      verifyOnly = verifyOnly != null && verifyOnly;
    }

    String directory() {
      return archive != null ? archive.substring(0, archive.lastIndexOf('/')) : dir;
    }

    String backupName() {
      if (archive == null) return name == null ? "backup" : name;
      return archive.substring(archive.lastIndexOf('/') + 1, archive.length() - ".tar.gz".length());
    }
  }

  public RestoreStep() {
    super("restore", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    if ((a.archive() == null) == (a.dir() == null)) {
      problems.add(
          "give exactly one of 'archive' (the backup's .tar.gz) or 'dir' (its run directory, with 'name')");
      return problems;
    }
    if (a.archive() != null && a.name() != null)
      problems.add("'name' goes with 'dir'; 'archive' already names the backup");
    String path = a.archive() != null ? a.archive() : a.dir();
    if (!path.startsWith("/") || path.length() < 2 || path.endsWith("/"))
      problems.add("'" + path + "' is not an absolute path");
    if (a.archive() != null && !a.archive().endsWith(".tar.gz"))
      problems.add("archive '" + a.archive() + "' is not a .tar.gz made by the backup step");
    else if (!a.backupName().matches(BackupStep.NAME))
      problems.add(
          "backup name '" + a.backupName() + "' may hold only letters, digits, '.', '_' and '-'");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    return run(ctx, a.directory(), a.backupName(), a.verifyOnly());
  }

  /** The automatic undo of a backup: restore what it archived. */
  static Undo undo(String dir, String name, List<String> paths) {
    String what = "restore " + String.join(", ", paths) + " from " + dir + "/" + name + ".tar.gz";
    return new Undo() {
      @Override
      public String description() {
        return what;
      }

      @Override
      public StepResult run(StepContext ctx) {
        return RestoreStep.run(ctx, dir, name, false);
      }
    };
  }

  static StepResult run(StepContext ctx, String dir, String name, boolean verifyOnly) {
    String archive = dir + "/" + name + ".tar.gz";
    ExecResult r = HostScript.run(ctx, script(dir, name, verifyOnly), null);
    List<String> restored = HostScript.tagged(r, "restored");
    if (r.exitCode() != 0 || r.timedOut()) {
      StepResult f = HostScript.failed(r, "cannot restore from " + archive);
      return restored.isEmpty()
          ? f
          : f.withStatus(
              Status.FAILED,
              f.message() + " (already restored: " + String.join(", ", restored) + ")");
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("archive", archive);
    data.put("dir", dir);
    data.put(
        "files",
        Integer.parseInt(HostScript.tagged(r, "verified").stream().findFirst().orElse("0")));
    if (verifyOnly)
      return StepResult.ok(
              "verified " + archive + ": " + data.get("files") + " files match SHA256SUMS")
          .withData(data);
    data.put("restored", restored);
    return StepResult.changed(
            "restored "
                + String.join(", ", restored)
                + " from "
                + archive
                + " ("
                + data.get("files")
                + " files verified)")
        .withData(data);
  }

  private static String script(String dir, String name, boolean verifyOnly) {
    String own = Shell.quote("^[0-9a-f]{64}  " + HostScript.ere(name) + "\\.(tar\\.gz|paths)$");
    String files = Shell.quote("^[0-9a-f]{64}  " + HostScript.ere(name) + "/");
    String refuse = "echo \"" + HostScript.SAYS + "refusing to restore: ";
    return "set -e; d="
        + Shell.quote(dir)
        + "; n="
        + Shell.quote(name)
        + "\n"
        + "cd \"$d\" 2>/dev/null || { "
        + refuse
        + "no backup directory $d\" >&2; exit 3; }\n"
        + "[ -f \"$n.tar.gz\" ] && [ -f \"$n.paths\" ] || { "
        + refuse
        + "$d has no $n.tar.gz and $n.paths\" >&2; exit 3; }\n"
        + "[ \"$(grep -cE "
        + own
        + " SHA256SUMS 2>/dev/null)\" = 2 ] || { "
        + refuse
        + "$d/SHA256SUMS has no checksums of $n.tar.gz and $n.paths\" >&2; exit 3; }\n"
        + "t=$(mktemp -d \"$d/.restore-$n.XXXXXX\"); trap 'rm -rf \"$t\"' EXIT\n"
        + "check() { if ! out=$(cd \"$1\" && sha256sum --check --strict \"$2\" 2>&1); then\n"
        + "  bad=$(printf '%s\\n' \"$out\" | sed -n 's/: FAILED.*$//p' | head -n 1); [ -n \"$bad\" ] || bad=$(printf '%s\\n' \"$out\" | head -n 1)\n"
        + "  "
        + refuse
        + "$bad does not match its checksum in $d/SHA256SUMS; nothing was changed\" >&2; exit 3; fi; }\n"
        + "grep -E "
        + own
        + " SHA256SUMS > \"$t/own\"; check \"$d\" \"$t/own\"\n"
        + "mkdir \"$t/$n\"; tar -xzpf \"$n.tar.gz\" --numeric-owner -C \"$t/$n\"\n"
        + "grep -E "
        + files
        + " SHA256SUMS > \"$t/files\" || true; [ ! -s \"$t/files\" ] || check \"$t\" \"$t/files\"\n"
        + "while IFS= read -r p; do case \"$d/\" in \"$p\"/*) "
        + refuse
        + "the backup $d is inside $p, which it would replace\" >&2; exit 3;; esac\n"
        + "  [ -e \"$t/$n$p\" ] || [ -L \"$t/$n$p\" ] || { "
        + refuse
        + "$n.tar.gz holds no $p\" >&2; exit 3; }; done < \"$n.paths\"\n"
        + "echo \"verified $(wc -l < \"$t/files\")\"\n"
        + (verifyOnly ? "exit 0\n" : "")
        + "isdir() { [ -d \"$1\" ] && [ ! -L \"$1\" ]; }\n"
        + "while IFS= read -r p; do par=${p%/*}; mkdir -p \"${par:-/}\"; s=$(mktemp -d \"${par:-/}/.runbook-restore.XXXXXX\")\n"
        // The copy that may cross file systems happens before the original is touched.
        + "  mv -T \"$t/$n$p\" \"$s/new\" || { rm -rf \"$s\"; exit 1; }\n"
        + "  if isdir \"$p\" || { isdir \"$s/new\" && { [ -e \"$p\" ] || [ -L \"$p\" ]; }; }; then\n"
        + "    mv -T \"$p\" \"$s/old\" || { rm -rf \"$s\"; exit 1; }\n"
        + "    mv -T \"$s/new\" \"$p\" || { mv -T \"$s/old\" \"$p\" && rm -rf \"$s\"; exit 1; }\n"
        + "  else mv -fT \"$s/new\" \"$p\" || { rm -rf \"$s\"; exit 1; }; fi\n"
        + "  rm -rf \"$s\"; echo \"restored $p\"; done < \"$n.paths\"\n";
  }
}
