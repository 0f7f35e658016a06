package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands and scripts the migrate step sends, against a recording transport. Real databases:
 * *RealTest.
 */
class MigrateStepTest {
  static final String INIT =
      """
      CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE messages (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT NOT NULL, created_at TEXT);
      """;
  static final String BADGES =
      """
      CREATE TABLE user_badges (user_id INTEGER NOT NULL, badge TEXT NOT NULL, awarded_at TEXT,
                                PRIMARY KEY (user_id, badge));
      """;
  static final String THREADS =
      """
      CREATE TABLE threads (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at TEXT);
      ALTER TABLE messages ADD COLUMN thread_id INTEGER;
      """;

  final MigrateStep step = new MigrateStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  /** The sample service's three migrations, as files next to the runbook. */
  static void writeSampleMigrations(Path dir) throws Exception {
    Files.createDirectories(dir.resolve("migrations"));
    Files.writeString(dir.resolve("migrations/001_init.sql"), INIT);
    Files.writeString(dir.resolve("migrations/002_add_user_badges.sql"), BADGES);
    Files.writeString(dir.resolve("migrations/003_threads.sql"), THREADS);
    Files.writeString(dir.resolve("migrations/README.md"), "not a migration");
  }

  @BeforeEach
  void migrations() throws Exception {
    writeSampleMigrations(dir);
  }

  StepResult run(String yaml) {
    MigrateStep.Args args = Bind.args(step, yaml);
    assertThat(step.validate(args)).isEmpty();
    return step.execute(args, new FakeContext(host, dir));
  }

  static String stdin(ExecRequest r) {
    return new String(r.stdin(), StandardCharsets.UTF_8);
  }

  @Test
  void sqliteReadsTheAppliedVersionsOnceThenRunsEachPendingMigrationInItsOwnTransaction() {
    host.answer(ok("001_init.sql\n"));
    StepResult r =
        run(
            "{engine: sqlite, db: /opt/app/data/app.db, dir: migrations, timeout_per_migration: 5m}");

    assertThat(host.commands())
        .containsOnly("exec sqlite3 -bail -batch -init /dev/null /opt/app/data/app.db")
        .hasSize(3);
    assertThat(stdin(host.requests.get(0)))
        .isEqualTo(
            """
            CREATE TABLE IF NOT EXISTS "migrations" (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
            SELECT version FROM "migrations" ORDER BY version;
            """);
    assertThat(stdin(host.requests.get(1)))
        .isEqualTo(
            "BEGIN; "
                + BADGES
                + "\n;\n"
                + "INSERT INTO \"migrations\" (version, applied_at) VALUES ('002_add_user_badges.sql', datetime('now'));\nCOMMIT;\n");
    assertThat(stdin(host.requests.get(2)))
        .startsWith("BEGIN; CREATE TABLE threads")
        .contains("'003_threads.sql'");
    assertThat(host.requests.get(0).timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(host.requests.get(1).timeout()).isEqualTo(Duration.ofMinutes(5));

    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo("2 applied (002_add_user_badges.sql, 003_threads.sql), 1 skipped");
    assertThat(r.data())
        .containsEntry("applied", List.of("002_add_user_badges.sql", "003_threads.sql"))
        .containsEntry("skipped", List.of("001_init.sql"))
        .containsEntry("pending_before", List.of("002_add_user_badges.sql", "003_threads.sql"))
        .containsEntry("marked", List.of())
        .containsEntry("unknown", List.of());
  }

  @Test
  void nothingPendingIsOkAndSeedStyleNamesWithoutSqlCountAsRecorded() {
    host.answer(ok("001_init.sql\n002_add_user_badges.sql\n003_threads\n004_later.sql\n"));
    StepResult r = run("{engine: sqlite, db: app.db, dir: migrations}");
    assertThat(host.requests).hasSize(1);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message())
        .isEqualTo(
            "0 applied, 3 skipped; the database also records 004_later.sql,"
                + " not among these migrations");
    assertThat(r.data()).containsEntry("unknown", List.of("004_later.sql"));
  }

  @Test
  void filesAreAppliedInTheOrderGivenIntoTheNamedTable() {
    host.answer(ok(""));
    StepResult r =
        run(
            "{engine: sqlite, db: app.db, table: schema_migrations,"
                + " files: [migrations/003_threads.sql, migrations/001_init.sql]}");
    assertThat(r.data()).containsEntry("applied", List.of("003_threads.sql", "001_init.sql"));
    assertThat(stdin(host.requests.get(0)))
        .contains("CREATE TABLE IF NOT EXISTS \"schema_migrations\"");
    assertThat(stdin(host.requests.get(1)))
        .contains("INSERT INTO \"schema_migrations\" (version, applied_at)");
  }

  @Test
  void postgresPassesTheConnectionStringOnStdinAndLetsPsqlHoldTheTransaction() {
    host.answer(ok("001_init.sql\n002_add_user_badges.sql\n"));
    String url = "postgresql://app:s3cret@db.internal:5432/app";
    StepResult r =
        run("{engine: postgres, db: '" + url + "', dir: migrations, timeout_per_migration: 90}");

    String psql =
        "IFS= read -r url && exec psql -X -q -A -t -v ON_ERROR_STOP=1 --single-transaction -f - \"$url\"";
    assertThat(host.commands()).containsExactly(psql, psql);
    assertThat(host.commands()).noneMatch(c -> c.contains("s3cret"));
    assertThat(stdin(host.requests.get(0)))
        .isEqualTo(
            url
                + "\nSET client_min_messages = warning;\n"
                + "CREATE TABLE IF NOT EXISTS \"migrations\" (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL);\n"
                + "SELECT version FROM \"migrations\" ORDER BY version;\n");
    assertThat(stdin(host.requests.get(1)))
        .isEqualTo(
            url
                + "\nSET statement_timeout = 90000; "
                + THREADS
                + "\n;\nINSERT INTO \"migrations\" (version, applied_at) VALUES ('003_threads.sql',"
                + " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'));\n");
    assertThat(host.requests.get(1).timeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(r.message()).isEqualTo("1 applied (003_threads.sql), 2 skipped");
  }

  @Test
  void postgresErrorsAreReadFromPsqlAndPasswordsMasked() {
    host.answer(
        result(
            2,
            "",
            "psql: error: connection to server at \"db.internal\" (10.0.0.9), port 5432 failed:"
                + " FATAL:  password authentication failed for user \"app\"\n"));
    StepResult r =
        run("{engine: postgres, db: 'postgresql://app:s3cret@db.internal/app', dir: migrations}");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "cannot read the applied migrations from postgresql://app:***@db.internal/app:"
                + " connection to server at \"db.internal\" (10.0.0.9), port 5432 failed: FATAL:  password authentication"
                + " failed for user \"app\"");

    MigrationDb kv =
        new MigrationDb("postgres", "host=db dbname=app password='a b' user=app", "migrations");
    assertThat(kv.describe()).isEqualTo("host=db dbname=app password=*** user=app");
  }

  @Test
  void postgresAlreadyExistsIsAPartlyAppliedMigration() {
    host.answer(
        ok("001_init.sql\n002_add_user_badges.sql\n"),
        result(
            3,
            "",
            "psql:<stdin>:2: ERROR:  column \"thread_id\" of relation \"messages\" already exists\n"));
    StepResult r = run("{engine: postgres, db: 'postgresql://app@db/app', dir: migrations}");
    assertThat(r.message())
        .isEqualTo(
            "003_threads.sql failed: column \"thread_id\" of relation \"messages\""
                + " already exists — the migration looks partly applied (its changes exist but it is not recorded in"
                + " migrations). Check the schema; if it is complete, record it with mark_applied: [003_threads.sql];"
                + " otherwise fix the schema and run again.");
    assertThat(r.data()).containsEntry("failed", "003_threads.sql").containsEntry("error_line", 2);
  }

  @Test
  void aStatementTimeoutFromPostgresReadsAsATimeOut() {
    host.answer(
        ok(""),
        ok(""),
        result(3, "", "psql:<stdin>:1: ERROR:  canceling statement due to statement timeout\n"));
    StepResult r =
        run(
            "{engine: postgres, db: 'postgresql://app@db/app', dir: migrations, timeout_per_migration: 2s}");
    assertThat(r.message())
        .isEqualTo(
            "002_add_user_badges.sql timed out after 2s and was stopped before it was"
                + " recorded; earlier migrations stay applied (1 applied); if it only needs longer, raise timeout_per_migration");
  }

  @Test
  void aTransportTimeOutStopsTheRun() {
    host.answer(ok(""), RecordingTransport.timedOut());
    StepResult r = run("{engine: sqlite, db: app.db, dir: migrations, timeout_per_migration: 3}");
    assertThat(host.requests).hasSize(2);
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .startsWith(
            "001_init.sql timed out after 3s and was stopped before it was recorded;"
                + " earlier migrations stay applied (0 applied)");
    assertThat(r.data()).containsEntry("error", "timed out").containsEntry("applied", List.of());
  }

  @Test
  void markAppliedRecordsWithoutRunningInOneTransaction() {
    host.answer(ok("001_init.sql\n002_add_user_badges.sql\n"));
    StepResult r =
        run("{engine: sqlite, db: app.db, dir: migrations, mark_applied: ['003_threads']}");
    assertThat(host.requests).hasSize(2);
    assertThat(stdin(host.last()))
        .isEqualTo(
            "BEGIN;\nINSERT INTO \"migrations\" (version, applied_at)"
                + " VALUES ('003_threads.sql', datetime('now'));\nCOMMIT;\n");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo("0 applied, 2 skipped; marked as applied without running: 003_threads.sql");
    assertThat(r.data())
        .containsEntry("marked", List.of("003_threads.sql"))
        .containsEntry("pending_before", List.of("003_threads.sql"));
  }

  @Test
  void markAppliedNamesMustBeUnrecordedMigrations() {
    StepResult unknown =
        run("{engine: sqlite, db: app.db, dir: migrations, mark_applied: [003_thread.sql]}");
    assertThat(unknown.message())
        .isEqualTo(
            "mark_applied: 003_thread.sql is not one of the migrations"
                + " (001_init.sql, 002_add_user_badges.sql, 003_threads.sql)");
    assertThat(host.requests).isEmpty();

    host.answer(ok("001_init.sql\n002_add_user_badges.sql\n003_threads.sql\n"));
    StepResult again =
        run("{engine: sqlite, db: app.db, dir: migrations, mark_applied: [003_threads.sql]}");
    assertThat(again.status()).isEqualTo(Status.FAILED);
    assertThat(again.message())
        .isEqualTo(
            "mark_applied: 003_threads.sql is already recorded in migrations;"
                + " remove it from mark_applied");
    assertThat(host.requests).hasSize(1);
  }

  @Test
  void sqliteErrorsNameTheMigrationAndWhatStaysApplied() {
    host.answer(
        ok(""),
        ok(""),
        result(
            1,
            "",
            """
            Parse error near line 2: no such table: messages
              ALTER TABLE messages ADD COLUMN thread_id INTEGER;
                          ^--- error here
            """));
    StepResult r =
        run(
            "{engine: sqlite, db: app.db, files: [migrations/001_init.sql, migrations/003_threads.sql]}");
    assertThat(r.message())
        .isEqualTo(
            "003_threads.sql failed: no such table: messages; earlier migrations stay"
                + " applied (1 applied)");
    assertThat(r.data())
        .containsEntry("applied", List.of("001_init.sql"))
        .containsEntry("error_line", 2)
        .containsEntry("error", "no such table: messages");
    assertThat(r.stderr()).contains("^--- error here");
  }

  @Test
  void aMissingClientIsNamed() {
    host.answer(result(127, "", "sh: 1: exec: sqlite3: not found\n"));
    StepResult r = run("{engine: sqlite, db: /data/app.db, dir: migrations}");
    assertThat(r.message())
        .isEqualTo(
            "cannot read the applied migrations from /data/app.db:"
                + " sh: 1: exec: sqlite3: not found (is sqlite3 installed on the host?)");
  }

  @Test
  void migrationsWithTheirOwnTransactionAreRefusedBeforeTouchingTheHost() throws Exception {
    Files.writeString(
        dir.resolve("migrations/004_tx.sql"), "BEGIN;\nCREATE TABLE x (id INTEGER);\nCOMMIT;\n");
    StepResult r = run("{engine: sqlite, db: app.db, dir: migrations}");
    assertThat(r.message())
        .isEqualTo(
            "004_tx.sql has its own BEGIN/COMMIT; migrate runs every migration in a"
                + " transaction of its own, so remove them from the file");
    assertThat(host.requests).isEmpty();
    // a trigger's BEGIN ... END is not a transaction
    Files.writeString(
        dir.resolve("migrations/004_tx.sql"),
        "CREATE TRIGGER t AFTER INSERT ON users BEGIN\n  UPDATE users SET name = name;\nEND;\n");
    host.answer(ok("001_init.sql\n002_add_user_badges.sql\n003_threads.sql\n"));
    assertThat(run("{engine: sqlite, db: app.db, dir: migrations}").message())
        .startsWith("1 applied (004_tx.sql)");
  }

  @Test
  void aDirWithoutMigrationsOrAMissingDirFails() throws Exception {
    Files.createDirectories(dir.resolve("empty"));
    assertThat(run("{engine: sqlite, db: app.db, dir: empty}").message())
        .isEqualTo("no *.sql files in " + dir.resolve("empty"));
    assertThat(run("{engine: sqlite, db: app.db, dir: nope}").message())
        .isEqualTo("migrations dir not found on the controller: " + dir.resolve("nope"));
    assertThat(host.requests).isEmpty();
  }

  @Test
  void validateNamesEveryProblem() {
    MigrateStep.Args bad =
        Bind.args(
            step,
            "{engine: mysql, db: ' ', dir: m, files: [a.sql], table: 'x; DROP TABLE y',"
                + " timeout_per_migration: soon}");
    assertThat(step.validate(bad))
        .containsExactly(
            "'engine' must be sqlite or postgres",
            "'db' is empty",
            "give either 'dir' or 'files'",
            "'table' must be a plain SQL name such as migrations",
            "'timeout_per_migration' must be a duration such as 300, 30s or 5m");
    assertThat(step.validate(Bind.args(step, "{engine: sqlite, db: a.db}")))
        .containsExactly("give either 'dir' or 'files'");
    assertThat(step.undoable()).isFalse();
  }

  /**
   * A table name that comes from a registered value was "[=t]" at validate time; when the step runs
   * it is checked again, and nothing reaches sqlite3, whose stdin also takes dot-commands such as
   * .shell.
   */
  @Test
  void aTableNameFromAVariableIsCheckedWhenTheStepRuns() {
    String injected =
        "migrations (version TEXT);\n.shell touch /tmp/x\nCREATE TABLE IF NOT EXISTS migrations";
    MigrateStep.Args args =
        new MigrateStep.Args("sqlite", "app.db", "migrations", null, injected, null, null);
    StepResult r = step.execute(args, new FakeContext(host, dir));

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("'table' must be a plain SQL name such as migrations");
    assertThat(host.requests).isEmpty();
    assertThat(Assertions.catchThrowable(() -> new MigrationDb("sqlite", "a.db", injected)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theTableIsAQuotedIdentifierAndPostgresKeepsTheNameItFoldedBefore() {
    host.answer(ok(""));
    run(
        "{engine: postgres, db: 'postgresql://app@db/app', dir: migrations, table: Ops.Schema_Migrations}");
    assertThat(stdin(host.requests.get(0)))
        .contains("CREATE TABLE IF NOT EXISTS \"ops\".\"schema_migrations\" (")
        .contains("SELECT version FROM \"ops\".\"schema_migrations\" ORDER BY");
    assertThat(new MigrationDb("sqlite", "a.db", "Ops.Mig").quotedTable())
        .isEqualTo("\"Ops\".\"Mig\"");
  }
}
