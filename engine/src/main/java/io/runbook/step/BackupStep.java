package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
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
import java.util.stream.Collectors;

/**
 * {@code backup:} archives files and directories into a per-run directory {@code DEST/<run id>/}:
 * the archive {@code NAME.tar.gz} (owners and modes kept), {@code NAME.paths} (what was archived)
 * and {@code SHA256SUMS}, which holds the checksum of both and of every archived file as {@code
 * NAME/<path>} (taken from the archive itself, so they describe exactly what it holds). {@code
 * keep: N} then prunes this name's archives in DEST beyond the N newest. Its automatic undo is the
 * matching {@code restore}.
 */
public final class BackupStep extends StepType<BackupStep.Args> {
  static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]*";
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param paths absolute files or directories to archive
   * @param dest directory that holds one directory per run
   * @param name the archive's name in the run directory, default "backup"
   * @param keep how many of this name's archives to keep in dest, the new one included; null keeps
   *     all
   */
  public record Args(List<String> paths, String dest, String name, Integer keep) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      paths = paths == null ? List.of() : List.copyOf(paths);
      name = name == null ? "backup" : name;
    }
  }

  public BackupStep() {
    super("backup", Args.class);
  }

  @Override
  public List<Backup> backups(Args a) {
    if (a.dest() == null || a.paths().isEmpty()) return List.of();
    return List.of(new Backup(a.dest(), a.name(), a.paths(), null));
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    if (a.paths().isEmpty())
      problems.add("'paths' is empty; list the files and directories to back up");
    for (String p : a.paths()) checkPath("path", p).ifPresent(problems::add);
    checkPath("dest", a.dest()).ifPresent(problems::add);
    if (!a.name().matches(NAME))
      problems.add("name '" + a.name() + "' may hold only letters, digits, '.', '_' and '-'");
    if (a.keep() != null && a.keep() < 1)
      problems.add("keep must be at least 1 (the new backup), not " + a.keep());
    if (!problems.isEmpty()) return problems;
    List<String> paths = a.paths();
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      if (inside(a.dest(), p))
        problems.add(
            "dest " + a.dest() + " is inside " + p + ": a restore would replace the backups");
      else if (inside(p, a.dest())) problems.add(p + " is inside dest " + a.dest());
      for (String q : paths.subList(i + 1, paths.size())) {
        if (q.equals(p)) problems.add(p + " is listed twice");
        else if (inside(q, p)) problems.add(q + " is inside " + p + "; list only the outer one");
        else if (inside(p, q)) problems.add(p + " is inside " + q + "; list only the outer one");
      }
    }
    return problems.stream().distinct().toList();
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    String dir = a.dest() + "/" + runDirectory(ctx);
    ExecResult r = HostScript.run(ctx, script(a, dir), null);
    if (r.exitCode() != 0 || r.timedOut()) return HostScript.failed(r, "cannot back up to " + dir);
    String[] made = HostScript.tagged(r, "backup").stream().findFirst().orElse("").split(" ", -1);
    if (made.length != 3)
      return StepResult.failed(
          "backup to " + dir + ": unexpected answer '" + r.stdoutText().strip() + "'");
    List<String> pruned = HostScript.tagged(r, "pruned");
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("archive", dir + "/" + a.name() + ".tar.gz");
    data.put("dir", dir);
    data.put("sha256", made[0]);
    data.put("files", Integer.parseInt(made[2]));
    data.put("bytes", Long.parseLong(made[1]));
    data.put("pruned", pruned);
    return StepResult.changed(
            "backed up "
                + String.join(", ", a.paths())
                + " to "
                + data.get("archive")
                + " ("
                + made[2]
                + " files"
                + (pruned.isEmpty() ? "" : ", pruned " + pruned.size() + " older")
                + ")")
        .withData(data);
  }

  @Override
  public boolean undoable() {
    return true;
  }

  /** The restore of the archive this step made, checksums first. */
  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    if (!result.changed() || !(result.data().get("dir") instanceof String dir))
      return Optional.empty();
    return Optional.of(RestoreStep.undo(dir, a.name(), a.paths()));
  }

  /** The run's id ({@code run.id}, which the engine sets), else the time. */
  private static String runDirectory(StepContext ctx) {
    if (ctx.vars().get("run") instanceof Map<?, ?> run
        && run.get("id") instanceof String id
        && id.matches(NAME)) {
      return id;
    }
    return LocalDateTime.now(ZoneOffset.UTC).format(STAMP); // UTC, as run ids are
  }

  private static String script(Args a, String dir) {
    String n = a.name();
    String mine = Shell.quote("  " + HostScript.ere(n) + "(\\.tar\\.gz|\\.paths|/.*)$");
    String quoted = a.paths().stream().map(Shell::quote).collect(Collectors.joining(" "));
    String relative =
        a.paths().stream().map(p -> Shell.quote(p.substring(1))).collect(Collectors.joining(" "));
    String s =
        "set -e; umask 077; d="
            + Shell.quote(dir)
            + "; n="
            + Shell.quote(n)
            + "\n"
            + "for p in "
            + quoted
            + "; do [ -e \"$p\" ] || [ -L \"$p\" ] || "
            + "{ echo \""
            + HostScript.SAYS
            + "cannot back up $p: no such file or directory\" >&2; exit 3; }; done\n"
            + "mkdir -p \"$d\"; t=$(mktemp \"$d/.$n.XXXXXX\"); trap 'rm -f \"$t\" \"$t.sums\" \"$t.paths\" \"$t.all\"' EXIT\n"
            + "tar -czf \"$t\" --numeric-owner -C / -- "
            + relative
            + "\n"
            // Checksums of what the archive holds (not of the live files, which may have moved on
            // since).
            + "RUNBOOK_NAME=$n tar -xzf \"$t\" --to-command='h=$(sha256sum) && "
            + "printf \"%s  %s/%s\\n\" \"${h%% *}\" \"$RUNBOOK_NAME\" \"$TAR_FILENAME\"' > \"$t.sums\"\n"
            + "printf '%s\\n' "
            + quoted
            + " > \"$t.paths\"\n"
            + "s=$(sha256sum < \"$t\"); s=${s%% *}; ps=$(sha256sum < \"$t.paths\"); ps=${ps%% *}\n"
            + "{ grep -vE "
            + mine
            + " \"$d/SHA256SUMS\" 2>/dev/null || true; echo \"$s  $n.tar.gz\"; "
            + "echo \"$ps  $n.paths\"; cat \"$t.sums\"; } > \"$t.all\"\n"
            + "mv -f \"$t\" \"$d/$n.tar.gz\"; mv -f \"$t.paths\" \"$d/$n.paths\"; mv -f \"$t.all\" \"$d/SHA256SUMS\"\n"
            + "echo \"backup $s $(stat -c %s \"$d/$n.tar.gz\") $(wc -l < \"$t.sums\")\"\n";
    if (a.keep() == null) return s;
    // Only this name's archives go; a run directory is removed when nothing else is left in it.
    return s
        + "ls -1t "
        + Shell.quote(a.dest())
        + "/*/\"$n.tar.gz\" 2>/dev/null | grep -vxF \"$d/$n.tar.gz\" | tail -n +"
        + a.keep()
        + " | while IFS= read -r old; do od=${old%/*}; rm -f \"$old\" \"$od/$n.paths\"\n"
        + "  if [ -f \"$od/SHA256SUMS\" ]; then grep -vE "
        + mine
        + " \"$od/SHA256SUMS\" > \"$od/.SHA256SUMS.new\" || true\n"
        + "    if [ -s \"$od/.SHA256SUMS.new\" ]; then mv -f \"$od/.SHA256SUMS.new\" \"$od/SHA256SUMS\"; "
        + "else rm -f \"$od/.SHA256SUMS.new\" \"$od/SHA256SUMS\"; fi; fi\n"
        + "  rmdir \"$od\" 2>/dev/null || true; echo \"pruned $old\"; done\n";
  }

  /** Empty when {@code path} is a normalised absolute path other than "/", else the problem. */
  private static Optional<String> checkPath(String what, String path) {
    if (path == null || path.isEmpty()) return Optional.of("'" + what + "' is missing");
    if (!path.startsWith("/")
        || path.equals("/")
        || path.endsWith("/")
        || path.contains("//")
        || path.contains("\n")
        || ("/" + path + "/").contains("/./")
        || ("/" + path + "/").contains("/../")) {
      return Optional.of(
          what
              + " '"
              + path
              + "' must be an absolute path such as /srv/app/data (no '..', no trailing '/', not '/')");
    }
    return Optional.empty();
  }

  private static boolean inside(String child, String parent) {
    return child.equals(parent) || child.startsWith(parent + "/");
  }
}
