package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migrate step against real SQLite databases, through the local transport and the real sqlite3.
 */
class MigrateStepSqliteTest {
  final MigrateStep step = new MigrateStep();
  final LocalTransport local = new LocalTransport("local");
  @TempDir Path dir;
  Path db;

  @BeforeEach
  void setUp() throws Exception {
    // Fails, never skips: scripts/test-env.sh installs sqlite3, and a skipped test proves nothing.
    assertThat(sh("command -v sqlite3").exitCode())
        .as("sqlite3 is not installed: run scripts/test-env.sh")
        .isZero();
    MigrateStepTest.writeSampleMigrations(dir);
    db = dir.resolve("data/sample.db");
    Files.createDirectories(db.getParent());
  }

  StepResult migrate(String more) {
    MigrateStep.Args args =
        Bind.args(step, "{engine: sqlite, db: '" + db + "', dir: migrations" + more + "}");
    assertThat(step.validate(args)).isEmpty();
    return step.execute(args, new FakeContext(local, dir));
  }

  ExecResult sh(String command) {
    return local.exec(ExecRequest.builder(command).build());
  }

  String sql(String query) {
    ExecResult r = sh("sqlite3 " + Shell.quote(db.toString()) + " " + Shell.quote(query));
    assertThat(r.exitCode()).as(r.stderrText()).isZero();
    return r.stdoutText().strip();
  }

  @Test
  void aFreshDatabaseGetsEveryMigrationAndARerunLeavesItByteIdentical() throws Exception {
    StepResult first = migrate("");
    assertThat(first.status()).isEqualTo(Status.CHANGED);
    assertThat(first.message())
        .isEqualTo("3 applied (001_init.sql, 002_add_user_badges.sql, 003_threads.sql), 0 skipped");
    assertThat(sql("SELECT version FROM migrations ORDER BY version"))
        .isEqualTo("001_init.sql\n002_add_user_badges.sql\n003_threads.sql");
    assertThat(
            sql(
                "SELECT count(*) FROM migrations WHERE applied_at GLOB '20[0-9][0-9]-[01][0-9]-[0-3][0-9] *'"))
        .isEqualTo("3");
    assertThat(sql("SELECT name FROM pragma_table_info('messages') WHERE name = 'thread_id'"))
        .isEqualTo("thread_id");

    byte[] before = Files.readAllBytes(db);
    StepResult again = migrate("");
    assertThat(again.status()).isEqualTo(Status.OK);
    assertThat(again.message()).isEqualTo("0 applied, 3 skipped");
    assertThat(again.data())
        .containsEntry("applied", List.of())
        .containsEntry("pending_before", List.of())
        .containsEntry(
            "skipped", List.of("001_init.sql", "002_add_user_badges.sql", "003_threads.sql"));
    assertThat(Files.readAllBytes(db)).isEqualTo(before);
  }

  @Test
  void anExistingColumnIsReportedAsAPartlyAppliedMigrationAndRolledBackWhole() throws Exception {
    migrate("");
    sql("DELETE FROM migrations WHERE version = '003_threads.sql'; DROP TABLE threads");
    // the seed's case: the column exists, the record does not
    byte[] before = Files.readAllBytes(db);

    StepResult r = migrate("");

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "003_threads.sql failed: duplicate column name: thread_id — the migration"
                + " looks partly applied (its changes exist but it is not recorded in migrations). Check the schema; if"
                + " it is complete, record it with mark_applied: [003_threads.sql]; otherwise fix the schema and run again.");
    assertThat(r.data())
        .containsEntry("failed", "003_threads.sql")
        .containsEntry("error_line", 2)
        .containsEntry("skipped", List.of("001_init.sql", "002_add_user_badges.sql"));
    // CREATE TABLE threads ran before the ALTER failed, and went with the rollback
    assertThat(sql("SELECT count(*) FROM sqlite_master WHERE name = 'threads'")).isEqualTo("0");
    assertThat(Files.readAllBytes(db)).isEqualTo(before);

    // "otherwise fix the schema and run again"
    sql("ALTER TABLE messages DROP COLUMN thread_id");
    StepResult fixed = migrate("");
    assertThat(fixed.message()).isEqualTo("1 applied (003_threads.sql), 2 skipped");
  }

  @Test
  void markAppliedRepairsACompleteButUnrecordedMigrationThenARerunSucceeds() throws Exception {
    migrate("");
    sql("DELETE FROM migrations WHERE version = '003_threads.sql'");
    StepResult failed = migrate("");
    assertThat(failed.message())
        .startsWith(
            "003_threads.sql failed: table threads already exists — the migration"
                + " looks partly applied");

    StepResult marked = migrate(", mark_applied: [003_threads.sql]");
    assertThat(marked.status()).isEqualTo(Status.CHANGED);
    assertThat(marked.message())
        .isEqualTo("0 applied, 2 skipped; marked as applied without running: 003_threads.sql");
    assertThat(marked.data()).containsEntry("marked", List.of("003_threads.sql"));
    assertThat(sql("SELECT count(*) FROM migrations WHERE version = '003_threads.sql'"))
        .isEqualTo("1");

    StepResult rerun = migrate("");
    assertThat(rerun.status()).isEqualTo(Status.OK);
    assertThat(rerun.message()).isEqualTo("0 applied, 3 skipped");
  }

  @Test
  void otherFailuresKeepTheEarlierMigrations() throws Exception {
    Files.writeString(
        dir.resolve("migrations/004_bad.sql"),
        "CREATE TABLE tags (id INTEGER);\n\nINSERT INTO nope VALUES (1);\n");
    StepResult r = migrate("");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "004_bad.sql failed: no such table: nope; earlier migrations stay applied (3 applied)");
    assertThat(r.data()).containsEntry("error_line", 3);
    assertThat(sql("SELECT count(*) FROM migrations")).isEqualTo("3");
    assertThat(sql("SELECT count(*) FROM sqlite_master WHERE name = 'tags'")).isEqualTo("0");
  }

  @Test
  void aLongMigrationIsStoppedAtItsTimeoutAndLeavesNothingBehind() throws Exception {
    Files.writeString(
        dir.resolve("migrations/004_slow.sql"),
        """
        CREATE TABLE counted (n INTEGER);
        INSERT INTO counted
          WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000)
          SELECT max(x) FROM c;
        """);
    long started = System.nanoTime();
    StepResult r = migrate(", timeout_per_migration: 1s");
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(15_000);

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "004_slow.sql timed out after 1s and was stopped before it was recorded;"
                + " earlier migrations stay applied (3 applied); if it only needs longer, raise timeout_per_migration");
    assertThat(sql("SELECT count(*) FROM migrations")).isEqualTo("3");
    assertThat(sql("SELECT count(*) FROM sqlite_master WHERE name = 'counted'")).isEqualTo("0");
  }

  @Test
  void anUnopenableDatabaseFailsBeforeAnyMigration() {
    db = dir.resolve("no/such/dir/app.db");
    StepResult r = migrate("");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .startsWith("cannot read the applied migrations from " + db + ": unable to open database");
  }
}
