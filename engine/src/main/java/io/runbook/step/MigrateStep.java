package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.yaml.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code migrate:} applies the SQL migrations a database has not recorded yet, in name order, each
 * in a transaction of its own together with its row in the tracking table (the seed guide's {@code
 * migrations(version, applied_at)}), through the host's {@code sqlite3} or {@code psql}. A failure
 * stops at that migration, which leaves nothing behind; earlier ones stay applied. A failure saying
 * that what the migration creates exists already is the seed's partly applied migration: the
 * message says how to check, and {@code mark_applied} records such a migration without running it.
 *
 * <p>No automatic undo: taking a schema back is a restore from the backup taken before, so give the
 * step a {@code rollback:} that restores it (SQL "down" migrations seldom give back dropped data).
 */
public final class MigrateStep extends StepType<MigrateStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param engine sqlite or postgres
   * @param db the SQLite file on the host, or the PostgreSQL connection string
   * @param dir a controller directory of {@code *.sql} files, relative to the runbook
   * @param files controller files, in the order to apply them (instead of {@code dir})
   * @param table the tracking table, default {@code migrations}
   * @param timeoutPerMigration how long one migration may run (default: the step's time-out)
   * @param markApplied migrations to record as applied without running them
   */
  public record Args(
      String engine,
      String db,
      String dir,
      List<String> files,
      String table,
      @JsonProperty("timeout_per_migration") String timeoutPerMigration,
      @JsonProperty("mark_applied") List<String> markApplied) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      table = table == null ? "migrations" : table;
      markApplied = markApplied == null ? List.of() : List.copyOf(markApplied);
    }
  }

  public MigrateStep() {
    super("migrate", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    if (!MigrationDb.ENGINES.contains(String.valueOf(a.engine())))
      problems.add("'engine' must be sqlite or postgres");
    if (a.db() == null || a.db().isBlank()) problems.add("'db' is empty");
    if ((a.dir() == null) == (a.files() == null)) problems.add("give either 'dir' or 'files'");
    if (a.files() != null) a.files().forEach(f -> problems.addAll(LocalSource.check("files", f)));
    if (!MigrationDb.TABLE.matcher(a.table()).matches())
      problems.add("'table' must be a plain SQL name such as migrations");
    Duration t = Durations.parse(a.timeoutPerMigration());
    if (a.timeoutPerMigration() != null && (t == null || t.isZero())) {
      problems.add("'timeout_per_migration' must be a duration such as 300, 30s or 5m");
    }
    return problems;
  }

  @Override
  public List<String> checkFiles(Args args, Path baseDir, Map<String, ?> model) {
    StepResult failure = MigrationFiles.load(baseDir, args.dir(), args.files()).failure();
    return failure == null ? List.of() : List.of(failure.message());
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    // Again, on the rendered arguments: a table name from a variable was only "[=t]" when first
    // checked.
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    MigrationFiles.Loaded loaded = MigrationFiles.load(ctx, a.dir(), a.files());
    if (loaded.failure() != null) return loaded.failure();
    List<MigrationFiles.Migration> all = loaded.migrations();
    List<String> marks = new ArrayList<>();
    for (String m : a.markApplied()) {
      Optional<String> name = MigrationFiles.resolve(all, m);
      if (name.isEmpty()) {
        return StepResult.failed(
            "mark_applied: "
                + m
                + " is not one of the migrations ("
                + String.join(", ", all.stream().map(MigrationFiles.Migration::name).toList())
                + ")");
      }
      marks.add(name.get());
    }
    MigrationDb db = new MigrationDb(a.engine(), a.db(), a.table());
    ExecResult read = ctx.transport().exec(db.listApplied(ctx.timeout(), ctx.become()));
    if (read.exitCode() != 0 || read.timedOut()) {
      String why = read.timedOut() ? "timed out" : MigrationDb.failure(a.engine(), read).error();
      String hint =
          read.exitCode() == 127
              ? " (is " + (db.postgres() ? "psql" : "sqlite3") + " installed on the host?)"
              : "";
      return StepResult.fromExec(read)
          .withStatus(
              Status.FAILED,
              "cannot read the applied migrations from " + db.describe() + ": " + why + hint);
    }
    List<String> recorded =
        read.stdoutText().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    MigrationRun run = new MigrationRun(all, recorded, marks);
    for (String m : marks) {
      if (run.skipped().contains(m)) {
        return StepResult.failed(
                "mark_applied: "
                    + m
                    + " is already recorded in "
                    + a.table()
                    + "; remove it from mark_applied")
            .withData(run.data());
      }
    }
    if (!marks.isEmpty()) {
      ExecResult r = ctx.transport().exec(db.mark(marks, ctx.timeout(), ctx.become()));
      if (r.exitCode() != 0 || r.timedOut()) {
        return StepResult.fromExec(r)
            .withStatus(
                Status.FAILED,
                "cannot record "
                    + String.join(", ", marks)
                    + " in "
                    + a.table()
                    + ": "
                    + MigrationDb.failure(a.engine(), r).error())
            .withData(run.data());
      }
    }
    Duration timeout =
        a.timeoutPerMigration() == null ? ctx.timeout() : Durations.parse(a.timeoutPerMigration());
    for (MigrationFiles.Migration m : run.toApply()) {
      ExecResult r = ctx.transport().exec(db.apply(m.name(), m.sql(), timeout, ctx.become()));
      if (r.exitCode() != 0 || r.timedOut())
        return run.failed(m.name(), r, a.engine(), a.table(), timeout);
      run.applied().add(m.name());
    }
    return run.done();
  }
}
