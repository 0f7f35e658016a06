package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.docker.DockerEngine.Mount;
import io.runbook.docker.DockerEngine.RunResult;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code docker_volume:} backs up a named volume to, or restores it from, a directory on the host,
 * through a throwaway container (the seed's {@code docker run --rm -v vol:/data IMAGE tar czf
 * ...}). A backup writes {@code DEST/<run id>/NAME.tar.gz} and its line in {@code SHA256SUMS}
 * beside it, as the {@code backup} step does; a restore checks the archive against {@code
 * SHA256SUMS} and that it reads whole before it empties the volume and extracts it. A backup's
 * automatic undo is that restore. Stop the containers that use the volume first: a restore under a
 * running service races it.
 */
public final class DockerVolumeStep extends StepType<DockerVolumeStep.Args> {
  /** The throwaway container's image when none is given: it needs sh, tar, gzip, sha256sum. */
  static final String DEFAULT_IMAGE = "busybox:latest";

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param action backup or restore
   * @param volume the named volume
   * @param dest for backup: the directory on the host that holds one directory per run
   * @param dir for restore: the backup's run directory (its registered dir)
   * @param archive for restore: the backup's .tar.gz, instead of dir
   * @param name the archive's name, default the volume's
   * @param image the throwaway container's image
   */
  public record Args(
      String action,
      String volume,
      String dest,
      String dir,
      String archive,
      String name,
      String image) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      image = image == null ? DEFAULT_IMAGE : image;
    }

    String archiveName() {
      if (archive != null)
        return archive.substring(
            archive.lastIndexOf('/') + 1, archive.length() - ".tar.gz".length());
      return name != null ? name : volume;
    }

    String restoreDir() {
      return archive != null ? archive.substring(0, archive.lastIndexOf('/')) : dir;
    }
  }

  public DockerVolumeStep() {
    super("docker_volume", Args.class);
  }

  @Override
  public List<Backup> backups(Args a) {
    if (!"backup".equals(a.action()) || a.volume() == null || a.dest() == null) return List.of();
    return List.of(
        new Backup(a.dest(), a.name() == null ? a.volume() : a.name(), List.of(), a.volume()));
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    String action = a.action() == null ? "" : a.action();
    if (a.volume() == null || !a.volume().matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      problems.add(
          "'volume' must name a volume (letters, digits, '_', '.', '-'), not '" + a.volume() + "'");
    }
    if (action.equals("backup")) {
      if (a.dest() == null)
        problems.add("'backup' needs 'dest', the host directory that keeps the archives");
      if (a.dir() != null || a.archive() != null)
        problems.add("'dir' and 'archive' go with action restore");
    } else if (action.equals("restore")) {
      if ((a.dir() == null) == (a.archive() == null))
        problems.add(
            "'restore' needs exactly one of 'dir' (the backup's run directory) or 'archive'");
      if (a.dest() != null) problems.add("'dest' goes with action backup");
      if (a.archive() != null && !a.archive().endsWith(".tar.gz"))
        problems.add("archive '" + a.archive() + "' is not a .tar.gz made by a backup");
    } else {
      problems.add("action '" + action + "' is not one of backup, restore");
    }
    for (String p : new String[] {a.dest(), a.dir(), a.archive()}) {
      if (p != null
          && (!p.startsWith("/") || p.length() < 2 || p.contains("/../") || p.endsWith("/"))) {
        problems.add("'" + p + "' must be an absolute path such as /srv/backups");
      }
    }
    if (problems.isEmpty() && !a.archiveName().matches(BackupStep.NAME)) {
      problems.add(
          "archive name '" + a.archiveName() + "' may hold only letters, digits, '.', '_' and '-'");
    }
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    if (!ctx.docker().volumeExists(a.volume())) {
      return StepResult.failed(
          ctx.hostName()
              + ": no volume "
              + a.volume()
              + " (docker volume ls on the host lists them)");
    }
    if (a.action().equals("restore"))
      return restore(ctx, a.volume(), a.restoreDir(), a.archiveName(), a.image());
    String dir = a.dest() + "/" + runDirectory(ctx);
    String n = a.archiveName();
    // The run directory is the login user's (as the backup step makes it), not the daemon's: the
    // archive
    // and SHA256SUMS are handed to its owner, so a backup step of the same run can add its own
    // lines.
    ExecResult made0 =
        ctx.exec(
            "umask 077 && mkdir -p " + Shell.quote(dir) + " && stat -c %u:%g " + Shell.quote(dir));
    if (made0.exitCode() != 0)
      return HostScript.failed(made0, ctx.hostName() + ": cannot make " + dir);
    String owner = made0.stdoutText().strip();
    if (!owner.matches("[0-9]+:[0-9]+"))
      return StepResult.failed(
          ctx.hostName() + ": cannot tell who owns " + dir + ": '" + owner + "'");
    String script =
        "set -e; umask 077; cd /backup; n='"
            + n
            + "'\n"
            + "tar -czf \".$n.tmp\" --numeric-owner -C /volume .\n"
            + "s=$(sha256sum < \".$n.tmp\"); s=${s%% *}; mv -f \".$n.tmp\" \"$n.tar.gz\"\n"
            + "{ grep -v \"  $n.tar.gz\\$\" SHA256SUMS 2>/dev/null || true; echo \"$s  $n.tar.gz\"; } > .SHA256SUMS.tmp\n"
            + "mv -f .SHA256SUMS.tmp SHA256SUMS; chown "
            + owner
            + " \"$n.tar.gz\" SHA256SUMS\n"
            + "echo \"backup $s $(wc -c < \"$n.tar.gz\") $(tar -tzf \"$n.tar.gz\" | grep -vc '/$' || true)\"\n";
    RunResult r =
        ctx.docker()
            .run(
                a.image(),
                List.of("sh", "-c", script),
                List.of(
                    Mount.volume(a.volume(), "/volume", true),
                    Mount.hostDir(dir, "/backup", false)),
                ctx.timeout());
    String line =
        r.output().lines().filter(l -> l.startsWith("backup ")).reduce((x, y) -> y).orElse("");
    String[] made = line.split(" ", -1);
    if (r.exitCode() != 0 || made.length != 4) {
      return StepResult.failed(
          ctx.hostName()
              + ": cannot back up volume "
              + a.volume()
              + " to "
              + dir
              + ": exit code "
              + r.exitCode()
              + lastLine(r.output()));
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("volume", a.volume());
    data.put("archive", dir + "/" + n + ".tar.gz");
    data.put("dir", dir);
    data.put("sha256", made[1]);
    data.put("bytes", Long.parseLong(made[2]));
    data.put("files", Integer.parseInt(made[3]));
    return StepResult.changed(
            "backed up volume "
                + a.volume()
                + " to "
                + data.get("archive")
                + " ("
                + made[3]
                + " files)")
        .withData(data);
  }

  static StepResult restore(StepContext ctx, String volume, String dir, String n, String image) {
    String refuse = "echo \"refusing to restore volume " + volume + ": ";
    String script =
        "set -e; cd /backup; n='"
            + n
            + "'\n"
            + "[ -f \"$n.tar.gz\" ] || { "
            + refuse
            + "no $n.tar.gz in "
            + dir
            + "\" >&2; exit 3; }\n"
            + "grep \"^[0-9a-f]\\{64\\}  $n.tar.gz\\$\" SHA256SUMS > /tmp/sum 2>/dev/null || { "
            + refuse
            + "SHA256SUMS in "
            + dir
            + " has no checksum of $n.tar.gz\" >&2; exit 3; }\n"
            + "sha256sum -c /tmp/sum >/dev/null 2>&1 || { "
            + refuse
            + "$n.tar.gz does not match its checksum in SHA256SUMS; nothing was changed\" >&2; exit 3; }\n"
            + "tar -tzf \"$n.tar.gz\" > /dev/null || { "
            + refuse
            + "$n.tar.gz does not read whole; nothing was changed\" >&2; exit 3; }\n"
            + "find /volume -mindepth 1 -maxdepth 1 -exec rm -rf {} +\n"
            + "tar -xzpf \"$n.tar.gz\" --numeric-owner -C /volume\n"
            + "echo \"restored $(find /volume -type f | wc -l)\"\n";
    RunResult r =
        ctx.docker()
            .run(
                image,
                List.of("sh", "-c", script),
                List.of(
                    Mount.volume(volume, "/volume", false), Mount.hostDir(dir, "/backup", true)),
                ctx.timeout());
    String line =
        r.output().lines().filter(l -> l.startsWith("restored ")).reduce((x, y) -> y).orElse("");
    if (r.exitCode() != 0 || line.isEmpty()) {
      return StepResult.failed(
          ctx.hostName()
              + ": cannot restore volume "
              + volume
              + " from "
              + dir
              + "/"
              + n
              + ".tar.gz: exit code "
              + r.exitCode()
              + lastLine(r.output()));
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("volume", volume);
    data.put("archive", dir + "/" + n + ".tar.gz");
    data.put("dir", dir);
    data.put("files", Integer.parseInt(line.substring("restored ".length()).strip()));
    return StepResult.changed(
            "restored volume " + volume + " from " + data.get("archive") + " (checksum verified)")
        .withData(data);
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public boolean undoable(Args a) {
    return a.action() == null || List.of("backup").contains(a.action());
  }

  /** A backup is undone by restoring it (after a later step changed the volume). */
  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    if (!a.action().equals("backup")
        || !result.changed()
        || !(result.data().get("dir") instanceof String dir)) return Optional.empty();
    String n = a.archiveName();
    return Optional.of(
        new Undo() {
          @Override
          public String description() {
            return "restore volume " + a.volume() + " from " + dir + "/" + n + ".tar.gz";
          }

          @Override
          public StepResult run(StepContext ctx) {
            return restore(ctx, a.volume(), dir, n, a.image());
          }
        });
  }

  private static String runDirectory(StepContext ctx) {
    if (ctx.vars().get("run") instanceof Map<?, ?> run
        && run.get("id") instanceof String id
        && id.matches(BackupStep.NAME)) {
      return id;
    }
    // UTC, as run ids are
    return LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
  }

  private static String lastLine(String output) {
    String s = output == null ? "" : output.strip();
    if (s.isEmpty()) return "";
    return ": " + s.substring(s.lastIndexOf('\n') + 1);
  }
}
