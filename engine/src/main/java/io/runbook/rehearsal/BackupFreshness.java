package io.runbook.rehearsal;

import io.runbook.transport.Transport;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Whether the newest backup is one a rollback of today's production could use. A backup older than
 * what is installed (the newest change under the {@code verify} paths that the backups do not hold:
 * the release tree, {@code current}, a compose file) would put an older release's data and config
 * under the installed one; no backup at all, when the runbook backs up, leaves a real rollback
 * nothing to restore. Measured on the copy, whose seed kept production's modification times:
 * nothing more is read on production.
 */
final class BackupFreshness {
  private BackupFreshness() {}

  /**
   * @param taken when the newest backup was written; null when there is none
   * @param problem why it is not fresh, naming the host; null when it is
   * @param facts for the report: run, taken, age_s, installed_changed, stale
   */
  record Result(Instant taken, String age, String problem, Map<String, Object> facts) {}

  /**
   * @param run the newest backup run directory on the copy, or null
   * @param seed the rehearsal section rendered with production's variables (production's paths, as
   *     seeded)
   */
  static Result check(
      String host, Transport copy, String run, RehearsalSpec.ForHost seed, Instant now) {
    Map<String, Object> facts = new LinkedHashMap<>();
    if (run == null) {
      String problem =
          seed.backups().isEmpty()
              ? null
              : host
                  + ": no backup found in "
                  + String.join(
                      ", ",
                      seed.backups().stream().map(RehearsalSpec.Backup::dest).distinct().toList())
                  + ": the rehearsal restored none, and a real rollback would have none to restore";
      facts.put("stale", problem != null);
      return new Result(null, null, problem, facts);
    }
    List<String> backedUp =
        seed.backups().stream()
            .flatMap(b -> b.paths() == null ? Stream.<String>empty() : b.paths().stream())
            .toList();
    long takenS =
        Seeder.newestMtime(
            copy,
            seed.backups().stream().map(b -> b.dest() + "/" + run).distinct().toList(),
            List.of());
    long installedS = Seeder.newestMtime(copy, seed.verify(), backedUp);
    Instant taken = Instant.ofEpochSecond(takenS);
    long ageS = Math.max(0, now.getEpochSecond() - takenS);
    String age = Durations.format(Duration.ofSeconds(ageS));
    facts.put("run", run);
    facts.put("taken", taken.toString());
    facts.put("age_s", ageS);
    if (installedS > 0)
      facts.put("installed_changed", Instant.ofEpochSecond(installedS).toString());
    String problem =
        installedS > takenS
            ? host
                + ": the newest backup (run "
                + run
                + ", "
                + age
                + " old) is older than what is installed (changed "
                + Instant.ofEpochSecond(installedS)
                + "): restoring it puts an older release's data and config under the"
                + " installed one; take a backup first"
            : null;
    facts.put("stale", problem != null);
    return new Result(taken, age, problem, facts);
  }
}
