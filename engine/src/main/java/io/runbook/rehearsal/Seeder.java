package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.step.RestoreStep;
import io.runbook.step.StepContext;
import io.runbook.step.StepResult;
import io.runbook.step.Status;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Makes a rehearsal host look like its production host: copies the seed paths from production (reading
 * only: one {@code tar c} there, nothing written, no lock taken), restores the newest backup the way a
 * rollback restores it ({@link RestoreStep}: checksums first, then whole paths replaced), and starts the
 * service.
 */
final class Seeder {
  private static final Duration COPY_TIMEOUT = Duration.ofMinutes(10);

  private Seeder() {}

  /** Copies the paths that exist on production; returns them. */
  static List<String> copy(Transport production, Become prodBecome, Transport rehearsalRoot, List<String> paths) {
    if (paths.isEmpty()) return List.of();
    String list = Shell.join(paths);
    ExecResult found = production.exec(ExecRequest.builder("for p in " + list + "; do [ -e \"$p\" ] && printf '%s\\n' \"$p\"; done; true")
        .become(prodBecome).build());
    List<String> existing = found.stdoutText().lines().filter(s -> !s.isBlank()).toList();
    if (existing.isEmpty()) return existing;
    // The parent directories go in too, without their other contents, so that they keep their owners and
    // modes on the rehearsal host (GNU tar's --no-recursion and --recursion apply to the names after them).
    java.util.LinkedHashSet<String> parents = new java.util.LinkedHashSet<>();
    for (String p : existing) {
      Path parent = Path.of(p).normalize().getParent();
      List<String> chain = new java.util.ArrayList<>();
      for (Path d = parent; d != null && d.getNameCount() > 0; d = d.getParent()) chain.add(0, d.toString().replaceFirst("^/+", ""));
      parents.addAll(chain);
    }
    ExecResult tar = production.exec(ExecRequest.builder("tar czf - --numeric-owner -C / "
        + (parents.isEmpty() ? "" : "--no-recursion " + Shell.join(List.copyOf(parents)) + " --recursion ")
        + Shell.join(existing.stream().map(p -> p.replaceFirst("^/+", "")).toList()))
        .become(prodBecome).timeout(COPY_TIMEOUT).maxOutput(Integer.MAX_VALUE).build());
    if (tar.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, production.describe() + ": cannot read the seed paths "
          + existing + " for the rehearsal: " + tar.stderrText().strip());
    }
    ExecResult x = rehearsalRoot.exec(ExecRequest.builder("tar xzf - --numeric-owner --same-owner -C /")
        .stdin(tar.stdout()).timeout(COPY_TIMEOUT).build());
    if (x.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, rehearsalRoot.describe() + ": cannot unpack the seed: "
          + x.stderrText().strip());
    }
    return existing;
  }

  /** The newest archive of the runbook's backup steps on the (seeded) host, or null. */
  static String newestBackup(Transport host, List<RehearsalSpec.Backup> backups) {
    String newest = null;
    for (RehearsalSpec.Backup b : backups) {
      ExecResult r = host.exec(ExecRequest.builder("ls -1d " + Shell.quote(b.dest()) + "/*/" + Shell.quote(b.name() + ".tar.gz")
          + " 2>/dev/null | sort | tail -n 1").build());
      String a = r.stdoutText().strip();
      // Backup directories are named after run ids, which sort by time.
      if (!a.isEmpty() && (newest == null || dirName(a).compareTo(dirName(newest)) > 0)) newest = a;
    }
    return newest;
  }

  private static String dirName(String archive) {
    String dir = archive.substring(0, archive.lastIndexOf('/'));
    return dir.substring(dir.lastIndexOf('/') + 1);
  }

  /** Restores {@code archive} exactly as a rollback's {@code restore} would. */
  static StepResult restore(Transport host, String hostName, Become become, String archive, Map<String, Object> vars) {
    StepContext ctx = new Context(hostName, host, Duration.ofMinutes(10), become, Path.of("."), vars);
    try {
      StepResult r = new RestoreStep().execute(new RestoreStep.Args(archive, null, null, false), ctx);
      if (r.status() == Status.FAILED) {
        throw new RunbookException(ErrorCode.HOST_FAILED, hostName + ": restoring " + archive
            + " on the rehearsal host failed: " + r.message());
      }
      return r;
    } catch (RunbookException e) {
      throw e;
    } catch (Exception e) {
      throw new RunbookException(ErrorCode.HOST_FAILED, hostName + ": restoring " + archive + " failed: " + e.getMessage(), e);
    }
  }

  static void start(Transport host, Become become, String command) {
    ExecResult r = host.exec(ExecRequest.builder(command).become(become).timeout(Duration.ofMinutes(2)).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, host.describe() + ": rehearsal.start '" + command
          + "' exited " + r.exitCode() + ": " + (r.stderrText() + r.stdoutText()).strip());
    }
  }

  /**
   * One line per file (sha256), symlink (target) and missing path under {@code paths}, sorted: what must be
   * the same after the rollback as before the upgrade.
   */
  static String checksums(Transport root, List<String> paths) {
    if (paths.isEmpty()) return "";
    String script = "for p in " + Shell.join(paths) + "; do"
        + " if [ -L \"$p\" ]; then echo \"L $p -> $(readlink \"$p\")\";"
        + " elif [ -d \"$p\" ]; then find \"$p\" \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf 'L %p -> %l\\n' \\);"
        + " elif [ -e \"$p\" ]; then sha256sum \"$p\"; else echo \"absent $p\"; fi; done | LC_ALL=C sort";
    ExecResult r = root.exec(ExecRequest.builder(script).maxOutput(Integer.MAX_VALUE).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(ErrorCode.HOST_FAILED, root.describe() + ": cannot checksum " + paths + ": " + r.stderrText());
    }
    return r.stdoutText();
  }

  private record Context(String hostName, Transport transport, Duration timeout, Become become, Path baseDir,
      Map<String, Object> vars) implements StepContext {
    @Override
    public String render(String templateText, String templateName) {
      return Templates.render(templateText, templateName, vars);
    }

    @Override
    public boolean evaluate(String expression) {
      return Templates.evaluate(expression, expression, vars);
    }
  }
}
