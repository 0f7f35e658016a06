package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.docker.DockerEngine;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.step.DockerVolumeStep;
import io.runbook.step.RestoreStep;
import io.runbook.step.Step;
import io.runbook.step.StepContext;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Makes a rehearsal host look like its production host: copies the seed paths from production
 * (reading only: one {@code tar c} there, nothing written, no lock taken), restores the newest
 * backups the way a rollback restores them ({@link RestoreStep}: checksums first, then whole paths
 * replaced; a volume's archive with {@code docker_volume: restore}), and starts the service.
 */
final class Seeder {
  private static final Duration COPY_TIMEOUT = Duration.ofMinutes(10);

  private Seeder() {}

  /** Copies the paths that exist on production; returns them. */
  static List<String> copy(
      Transport production, Become prodBecome, Transport rehearsalRoot, List<String> paths) {
    if (paths.isEmpty()) return List.of();
    String list = Shell.join(paths);
    ExecResult found =
        production.exec(
            ExecRequest.builder(
                    "for p in " + list + "; do [ -e \"$p\" ] && printf '%s\\n' \"$p\"; done; true")
                .become(prodBecome)
                .build());
    List<String> existing = found.stdoutText().lines().filter(s -> !s.isBlank()).toList();
    if (existing.isEmpty()) return existing;
    // The parent directories go in too, without their other contents, so that they keep their
    // owners and
    // modes on the rehearsal host (GNU tar's --no-recursion and --recursion apply to the names
    // after them).
    LinkedHashSet<String> parents = new LinkedHashSet<>();
    for (String p : existing) {
      Path parent = Path.of(p).normalize().getParent();
      List<String> chain = new ArrayList<>();
      for (Path d = parent; d != null && d.getNameCount() > 0; d = d.getParent())
        chain.add(0, d.toString().replaceFirst("^/+", ""));
      parents.addAll(chain);
    }
    ExecResult tar =
        production.exec(
            ExecRequest.builder(
                    "tar czf - --numeric-owner -C / "
                        + (parents.isEmpty()
                            ? ""
                            : "--no-recursion "
                                + Shell.join(List.copyOf(parents))
                                + " --recursion ")
                        + Shell.join(
                            existing.stream().map(p -> p.replaceFirst("^/+", "")).toList()))
                .become(prodBecome)
                .timeout(COPY_TIMEOUT)
                .maxOutput(Integer.MAX_VALUE)
                .build());
    if (tar.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          production.describe()
              + ": cannot read the seed paths "
              + existing
              + " for the rehearsal: "
              + tar.stderrText().strip());
    }
    ExecResult x =
        rehearsalRoot.exec(
            ExecRequest.builder("tar xzf - --numeric-owner --same-owner -C /")
                .stdin(tar.stdout())
                .timeout(COPY_TIMEOUT)
                .build());
    if (x.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          rehearsalRoot.describe() + ": cannot unpack the seed: " + x.stderrText().strip());
    }
    return existing;
  }

  /**
   * The newest run directory of the runbook's backups on the (seeded) host, or null: backup
   * directories are named after run ids, which sort by time. {@code backups} are named as
   * production names them.
   */
  static String newestRun(Transport host, List<RehearsalSpec.Backup> backups) {
    String newest = null;
    for (RehearsalSpec.Backup b : backups) {
      ExecResult r =
          host.exec(
              ExecRequest.builder(
                      "ls -1d "
                          + Shell.quote(b.dest())
                          + "/*/"
                          + Shell.quote(b.name() + ".tar.gz")
                          + " 2>/dev/null | sort | tail -n 1")
                  .build());
      String a = r.stdoutText().strip();
      if (a.isEmpty()) continue;
      String dir = a.substring(0, a.lastIndexOf('/'));
      String run = dir.substring(dir.lastIndexOf('/') + 1);
      if (newest == null || run.compareTo(newest) > 0) newest = run;
    }
    return newest;
  }

  /** What one trivial command costs on {@code host}, in ms: the median of five. */
  static long commandMillis(Transport host) {
    long[] ms = new long[5];
    for (int i = 0; i < ms.length; i++) {
      long t0 = System.nanoTime();
      host.exec(ExecRequest.builder("true").build());
      ms[i] = (System.nanoTime() - t0) / 1_000_000;
    }
    Arrays.sort(ms);
    return ms[ms.length / 2];
  }

  /**
   * The newest modification time (seconds; symlinks themselves, not their targets) of anything
   * under {@code paths}, leaving out what is under {@code except}; 0 when there is nothing.
   */
  static long newestMtime(Transport host, List<String> paths, List<String> except) {
    if (paths.isEmpty()) return 0;
    StringBuilder prune = new StringBuilder();
    for (String e : except) prune.append(" -path ").append(Shell.quote(e)).append(" -prune -o");
    ExecResult r =
        host.exec(
            ExecRequest.builder(
                    "find "
                        + Shell.join(paths)
                        + prune
                        + " -printf '%T@\\n' 2>/dev/null"
                        + " | sort -n | tail -n 1; true")
                .maxOutput(1 << 16)
                .build());
    String t = r.stdoutText().strip();
    return t.isEmpty() ? 0 : (long) Double.parseDouble(t);
  }

  /**
   * Restores every archive that the runbook's backup steps wrote in run directory {@code run}, each
   * as a rollback restores it: files with {@link RestoreStep}, a volume with {@code docker_volume:
   * restore} (into the rehearsal host's volume, created first). {@code production} and {@code
   * rehearsal} are the same backup steps rendered with each host's variables: production's name the
   * archives, the rehearsal host's the volumes and the directory as its daemon sees it. Returns the
   * archives, by production's path.
   */
  static List<String> restore(
      Target target,
      String run,
      List<RehearsalSpec.Backup> production,
      List<RehearsalSpec.Backup> rehearsal) {
    if (production.size() != rehearsal.size()) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          target.hostName()
              + ": the runbook's backup steps come out"
              + " differently with the rehearsal host's variables ("
              + production.size()
              + " vs "
              + rehearsal.size()
              + "); give the mode a rehearsal.restore of its own");
    }
    List<String> restored = new ArrayList<>();
    for (int i = 0; i < production.size(); i++) {
      RehearsalSpec.Backup prod = production.get(i);
      RehearsalSpec.Backup own = rehearsal.get(i);
      String archive = prod.dest() + "/" + run + "/" + prod.name() + ".tar.gz";
      if (target
              .transport()
              .exec(ExecRequest.builder("test -f " + Shell.quote(archive)).build())
              .exitCode()
          != 0) continue;
      if (prod.volume() == null) {
        restoreFiles(target, archive);
      } else {
        target.volumes().accept(own.volume());
        run(
            target,
            "docker_volume restore of " + own.volume(),
            new DockerVolumeStep(),
            new DockerVolumeStep.Args(
                "restore",
                own.volume(),
                null,
                own.dest() + "/" + run,
                null,
                prod.name(),
                target.image()));
      }
      restored.add(archive);
    }
    return restored;
  }

  /**
   * Restores {@code archive} (of a {@code backup} step) exactly as a rollback's {@code restore}
   * would.
   */
  static StepResult restoreFiles(Target target, String archive) {
    return run(
        target,
        "restoring " + archive,
        new RestoreStep(),
        new RestoreStep.Args(archive, null, null, false));
  }

  private static <A> StepResult run(Target target, String what, Step<A> step, A args) {
    try {
      StepResult r = step.execute(args, new Context(target, Duration.ofMinutes(10)));
      if (r.status() == Status.FAILED) {
        throw new RunbookException(
            ErrorCode.HOST_FAILED,
            target.hostName() + ": " + what + " on the rehearsal host failed: " + r.message());
      }
      return r;
    } catch (RunbookException e) {
      throw e;
    } catch (Exception e) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED, target.hostName() + ": " + what + " failed: " + e.getMessage(), e);
    }
  }

  static void start(Transport host, Become become, String command) {
    ExecResult r =
        host.exec(
            ExecRequest.builder(command).become(become).timeout(Duration.ofMinutes(2)).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host.describe()
              + ": rehearsal.start '"
              + command
              + "' exited "
              + r.exitCode()
              + ": "
              + (r.stderrText() + r.stdoutText()).strip());
    }
  }

  /**
   * One line per file (sha256), symlink (target) and missing path under {@code paths}, sorted: what
   * must be the same after the rollback as before the upgrade.
   */
  static String checksums(Transport root, List<String> paths) {
    if (paths.isEmpty()) return "";
    String script =
        "for p in "
            + Shell.join(paths)
            + "; do"
            + " if [ -L \"$p\" ]; then echo \"L $p -> $(readlink \"$p\")\";"
            + " elif [ -d \"$p\" ]; then find \"$p\" \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf 'L %p -> %l\\n' \\);"
            + " elif [ -e \"$p\" ]; then sha256sum \"$p\"; else echo \"absent $p\"; fi; done | LC_ALL=C sort";
    ExecResult r = root.exec(ExecRequest.builder(script).maxOutput(Integer.MAX_VALUE).build());
    if (r.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          root.describe() + ": cannot checksum " + paths + ": " + r.stderrText());
    }
    return r.stdoutText();
  }

  /**
   * One line per file of each volume (sha256, {@code volume:NAME/path}), sorted, read through a
   * throwaway container of {@code image} that mounts the volume read-only.
   */
  static String volumeChecksums(DockerEngine docker, String image, List<String> volumes) {
    StringBuilder out = new StringBuilder();
    for (String v : volumes) {
      DockerEngine.RunResult r =
          docker.run(
              image,
              List.of(
                  "sh",
                  "-c",
                  "cd /volume && find . -type f | LC_ALL=C sort"
                      + " | xargs -r sha256sum | sed 's|  \\./|  volume:"
                      + v
                      + "/|'"),
              List.of(DockerEngine.Mount.volume(v, "/volume", true)),
              Duration.ofMinutes(5));
      if (r.exitCode() != 0) {
        throw new RunbookException(
            ErrorCode.HOST_FAILED,
            "cannot checksum volume "
                + v
                + ": exit code "
                + r.exitCode()
                + ": "
                + r.output().strip());
      }
      out.append(
          r.output()
              .lines()
              .filter(l -> l.matches("[0-9a-f]{64}  volume:.*"))
              .map(l -> l + "\n")
              .reduce("", String::concat));
    }
    return out.toString();
  }

  /**
   * The rehearsal host as the seed's restores see it: its connection and become, its variables, its
   * Docker daemon (null unless it has one), the image of its throwaway containers, and how to make
   * a volume of the rehearsal.
   */
  record Target(
      String hostName,
      Transport transport,
      Become become,
      Map<String, Object> vars,
      DockerEngine docker,
      String image,
      Consumer<String> volumes) {}

  private record Context(Target target, Duration timeout) implements StepContext {
    @Override
    public String hostName() {
      return target.hostName();
    }

    @Override
    public Transport transport() {
      return target.transport();
    }

    @Override
    public Become become() {
      return target.become();
    }

    @Override
    public Path baseDir() {
      return Path.of(".");
    }

    @Override
    public Map<String, Object> vars() {
      return target.vars();
    }

    @Override
    public DockerEngine docker() {
      return target.docker() != null ? target.docker() : StepContext.super.docker();
    }

    @Override
    public String render(String templateText, String templateName) {
      return Templates.render(templateText, templateName, target.vars());
    }

    @Override
    public boolean evaluate(String expression) {
      return Templates.evaluate(expression, expression, target.vars());
    }
  }
}
