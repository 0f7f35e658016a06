package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.testing.Await;
import io.runbook.testing.LocalPostgres;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migrate step against a real PostgreSQL server through psql; fails where there is none to
 * start.
 */
class MigrateStepPostgresTest {
  static final String PASSWORD = LocalPostgres.PASSWORD;
  static final AtomicInteger DATABASES = new AtomicInteger();
  static LocalPostgres server;

  final MigrateStep step = new MigrateStep();
  final List<ExecRequest> sent = new ArrayList<>();
  final LocalTransport local = new LocalTransport("local");
  @TempDir Path dir;
  String url;

  /**
   * Fails, never skips, without PostgreSQL 15: scripts/test-env.sh installs it, and a skipped test
   * proves nothing.
   */
  @BeforeAll
  static void startServer() throws Exception {
    server = LocalPostgres.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) server.close();
  }

  @BeforeEach
  void freshDatabase() throws Exception {
    MigrateStepTest.writeSampleMigrations(dir);
    String name = "migrate_" + DATABASES.incrementAndGet();
    server.psql("postgres", "CREATE DATABASE " + name);
    url = server.url("admin", PASSWORD, name);
  }

  /** The local transport, remembering what was sent so that the test can look for the password. */
  final Transport recorded =
      new Transport() {
        @Override
        public ExecResult exec(ExecRequest r) {
          sent.add(r);
          return local.exec(r);
        }

        @Override
        public String describe() {
          return "local (recorded)";
        }

        @Override
        public void close() {}
      };

  StepResult migrate(String more) {
    MigrateStep.Args args =
        Bind.args(step, "{engine: postgres, db: '" + url + "', dir: migrations" + more + "}");
    assertThat(step.validate(args)).isEmpty();
    StepResult r = step.execute(args, new FakeContext(recorded, dir));
    assertThat(r.message()).doesNotContain(PASSWORD);
    assertThat(sent).allSatisfy(s -> assertThat(s.shellCommand()).doesNotContain(PASSWORD));
    return r;
  }

  String psql(String query) {
    ExecResult r =
        local.exec(
            ExecRequest.builder(
                    "psql -X -q -A -t -c " + Shell.quote(query) + " " + Shell.quote(url))
                .build());
    assertThat(r.exitCode()).as(r.stderrText()).isZero();
    return r.stdoutText().strip();
  }

  @Test
  void aFreshDatabaseGetsEveryMigrationAndARerunNone() {
    StepResult first = migrate("");
    assertThat(first.status()).as(first.message()).isEqualTo(Status.CHANGED);
    assertThat(first.message())
        .isEqualTo("3 applied (001_init.sql, 002_add_user_badges.sql, 003_threads.sql), 0 skipped");
    assertThat(psql("SELECT string_agg(version, ',' ORDER BY version) FROM migrations"))
        .isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    assertThat(
            psql(
                "SELECT count(*) FROM migrations WHERE applied_at ~ '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$'"))
        .isEqualTo("3");
    assertThat(
            psql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'thread_id'"))
        .isEqualTo("thread_id");

    StepResult again = migrate("");
    assertThat(again.status()).isEqualTo(Status.OK);
    assertThat(again.message()).isEqualTo("0 applied, 3 skipped");
  }

  @Test
  void anExistingColumnIsAPartlyAppliedMigrationAndMarkAppliedRepairsIt() {
    migrate("");
    psql("DELETE FROM migrations WHERE version = '003_threads.sql'; DROP TABLE threads");

    StepResult r = migrate("");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "003_threads.sql failed: column \"thread_id\" of relation \"messages\" already"
                + " exists — the migration looks partly applied (its changes exist but it is not recorded in migrations)."
                + " Check the schema; if it is complete, record it with mark_applied: [003_threads.sql]; otherwise fix the"
                + " schema and run again.");
    assertThat(r.data()).containsEntry("error_line", 2);
    assertThat(psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'threads'"))
        .isEqualTo("0");

    psql("CREATE TABLE threads (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at TEXT)");
    StepResult marked = migrate(", mark_applied: [003_threads]");
    assertThat(marked.status()).isEqualTo(Status.CHANGED);
    assertThat(marked.message())
        .isEqualTo("0 applied, 2 skipped; marked as applied without running: 003_threads.sql");
    assertThat(migrate("").message()).isEqualTo("0 applied, 3 skipped");
  }

  @Test
  void aLongMigrationIsStoppedOnTheServerToo() throws Exception {
    Files.writeString(
        dir.resolve("migrations/004_slow.sql"),
        "CREATE TABLE counted (n INTEGER);\nSELECT pg_sleep(30);\n");
    long started = System.nanoTime();
    StepResult r = migrate(", timeout_per_migration: 1s");
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(15_000);

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "004_slow.sql timed out after 1s and was stopped before it was recorded;"
                + " earlier migrations stay applied (3 applied); if it only needs longer, raise timeout_per_migration");
    assertThat(psql("SELECT count(*) FROM migrations")).isEqualTo("3");
    assertThat(psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'counted'"))
        .isEqualTo("0");
    // stopped means its session ends too, which the server sees a moment later
    Await.until(
        Duration.ofSeconds(10),
        "the stopped migration's session ends",
        () ->
            psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
                .equals("0"));
  }

  @Test
  void otherErrorsNameTheLine() throws Exception {
    Files.writeString(
        dir.resolve("migrations/004_bad.sql"),
        "CREATE TABLE tags (id INTEGER);\n\nINSERT INTO nope VALUES (1);\n");
    StepResult r = migrate("");
    assertThat(r.message())
        .isEqualTo(
            "004_bad.sql failed: relation \"nope\" does not exist; earlier migrations stay"
                + " applied (3 applied)");
    assertThat(r.data()).containsEntry("error_line", 3);
    assertThat(psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'tags'"))
        .isEqualTo("0");
  }
}
