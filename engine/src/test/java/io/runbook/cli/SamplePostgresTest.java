package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.LocalPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample service on PostgreSQL (a {@code postgresql://} URL as its database), against a real
 * PostgreSQL 15 cluster: the seed's rules hold as on SQLite (the new release migrates first, a
 * server fails fast on missing migrations, the old server keeps working on the migrated schema, a
 * failed migration leaves nothing of itself), its stdlib client logs in with SCRAM-SHA-256, md5 and
 * trust, and the password never reaches a log line.
 */
class SamplePostgresTest {
  static final Path RELEASES = SampleReleasesTest.RELEASES;
  static LocalPostgres pg;
  @TempDir Path tmp;

  @BeforeAll
  static void startPostgres() throws Exception {
    pg = LocalPostgres.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pg != null) pg.close();
  }

  @Test
  void theNewReleaseMigratesTheSharedDatabaseAndBothReleasesServeOnIt() throws Exception {
    String db = pg.url("admin", LocalPostgres.PASSWORD, "sample");
    assertThat(sampled("1.2.3", "migrate", "--db", db))
        .contains("Applied migration: 001_init.sql", "(1 applied, 0 skipped)");
    assertThat(sampled("1.2.3", "seed", "--db", db)).contains("Seeded 3 users and 4 messages");

    Run refused = run("2.0.0", "serve", "--config", config("2.0.0", db).toString());
    assertThat(refused.exit).isEqualTo(2);
    assertThat(refused.out)
        .contains(
            "[FATAL] database is missing migrations: 002_add_user_badges.sql, 003_threads.sql")
        .contains("postgresql://admin:***@")
        .doesNotContain(LocalPostgres.PASSWORD);

    assertThat(sampled("2.0.0", "migrate", "--db", db))
        .contains("Applied migration: 003_threads.sql", "(2 applied, 1 skipped)")
        .doesNotContain(LocalPostgres.PASSWORD);
    String migrated = pg.dump("sample");
    assertThat(sampled("2.0.0", "migrate", "--db", db)).contains("(0 applied, 3 skipped)");
    assertThat(pg.dump("sample")).as("re-running migrate changes nothing").isEqualTo(migrated);
    assertThat(pg.psql("sample", "SELECT version FROM migrations ORDER BY version"))
        .isEqualTo("001_init.sql\n002_add_user_badges.sql\n003_threads.sql\n");

    for (String release :
        List.of("1.2.3", "2.0.0")) { // the old server keeps working on the migrated schema
      try (Server s = serve(release, db)) {
        assertThat(s.get("/_health"))
            .isEqualTo(
                "{\"status\": \"ok\", \"version\": \"" + release + "\", \"migrations\": 3}\n");
        String messages = s.get("/api/messages");
        assertThat(messages)
            .contains(
                "\"id\": 1, \"user_id\": 1, \"user\": \"alice\", \"body\": \"hello from alice\"")
            .contains("\"body\": \"not yet\"");
        assertThat(messages.contains("\"thread_id\": null")).isEqualTo(release.equals("2.0.0"));
      }
    }
    assertThat(pg.dump("sample")).as("serving never writes").isEqualTo(migrated);
  }

  @Test
  void md5AndTrustLoginsWorkAndAWrongPasswordIsRefused() throws Exception {
    assertThat(sampled("2.0.0", "migrate", "--db", pg.url("md5user", "md5-Secret-42", "md5db")))
        .contains("(3 applied, 0 skipped)");
    assertThat(sampled("2.0.0", "migrate", "--db", pg.url("trustuser", null, "trustdb")))
        .contains("(3 applied, 0 skipped)");
    Run wrong = run("2.0.0", "migrate", "--db", pg.url("admin", "not-the-password", "sample"));
    assertThat(wrong.exit).isEqualTo(1);
    assertThat(wrong.out)
        .contains(
            "[ERROR] Cannot open database postgresql://admin:***@",
            "password authentication failed")
        .doesNotContain("not-the-password");
  }

  @Test
  void aFailedMigrationLeavesNothingOfItselfAndStaysUnrecorded() throws Exception {
    pg.psql("postgres", "CREATE DATABASE partly OWNER admin");
    String db = pg.url("admin", LocalPostgres.PASSWORD, "partly");
    sampled("1.3.0", "migrate", "--db", db);
    pg.psql(
        "partly",
        "ALTER TABLE messages ADD COLUMN thread_id INTEGER"); // the seed's partly-applied case
    Run failed = run("2.0.0", "migrate", "--db", db);
    assertThat(failed.exit).isEqualTo(1);
    assertThat(failed.out)
        .contains(
            "[ERROR] Migration failed: 003_threads.sql",
            "[ERROR] Reason: column \"thread_id\" of relation \"messages\" already exists");
    assertThat(
            pg.psql("partly", "SELECT count(*) FROM migrations WHERE version = '003_threads.sql'"))
        .isEqualTo("0\n");
    assertThat(pg.psql("partly", "SELECT to_regclass('threads') IS NULL"))
        .as("threads rolled back")
        .isEqualTo("t\n");
  }

  @Test
  void sampledctlStartsTheServerOnTheDatabaseItsConfigNames() throws Exception {
    pg.psql("postgres", "CREATE DATABASE ctl OWNER admin");
    String db = pg.url("admin", LocalPostgres.PASSWORD, "ctl");
    sampled("2.0.0", "migrate", "--db", db);
    Path app = Files.createDirectories(tmp.resolve("app"));
    Files.createSymbolicLink(app.resolve("current"), RELEASES.resolve("2.0.0"));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.createDirectories(app.resolve("config"));
    Files.copy(config("2.0.0", db, port), app.resolve("config/config.json"));
    String sampledctl = RELEASES.resolve("2.0.0/sampledctl").toString();
    try {
      Run start = command("bash", sampledctl, "start", app.toString());
      assertThat(start.exit).as(start.out).isZero();
      assertThat(start.out).contains("sampled 2.0.0 started", "\"migrations\": 3");
      assertThat(app.resolve("data/sample.db"))
          .as("no SQLite file next to a PostgreSQL config")
          .doesNotExist();
    } finally {
      assertThat(command("bash", sampledctl, "stop", app.toString()).exit).isZero();
    }
    assertThat(Files.readString(app.resolve("log/sampled.log")))
        .contains("(db postgresql://admin:***@")
        .doesNotContain(LocalPostgres.PASSWORD);
  }

  // --- helpers
  // ---------------------------------------------------------------------------------------

  record Run(int exit, String out) {}

  private String sampled(String release, String... args) throws Exception {
    Run r = run(release, args);
    assertThat(r.exit).as(r.out).isZero();
    return r.out;
  }

  private static Run run(String release, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of("python3", "-B", RELEASES.resolve(release + "/sampled.py").toString()));
    command.addAll(List.of(args));
    return command(command.toArray(String[]::new));
  }

  private static Run command(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  private Path config(String release, String db) throws IOException {
    return config(release, db, 1);
  }

  private Path config(String release, String db, int port) throws IOException {
    String body =
        release.startsWith("1.")
            ? "\"services\": {\"queue\": {\"data_dir\": \""
                + tmp
                + "\"}}, \"auth\": {\"session_secret\": \"0123456789abcdef-session\"}"
            : "\"services\": {\"queue\": {\"storage_backend\": \"memory\"}}, \"auth\": {\"sudo_mode_secret\": \"0123456789abcdef-sudo\","
                + " \"connection_initiation_secret\": \"0123456789abcdef-conn\"}";
    Path file = tmp.resolve("config-" + release + ".json");
    Files.writeString(
        file,
        "{\"server\": {\"host\": \"127.0.0.1\", \"port\": "
            + port
            + "}, \"database\": {\"path\": \""
            + db
            + "\"}, "
            + body
            + "}");
    return file;
  }

  private Server serve(String release, String db) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = tmp.resolve("serve-" + release + ".log");
    Process p =
        new ProcessBuilder(
                "python3",
                "-B",
                RELEASES.resolve(release + "/sampled.py").toString(),
                "serve",
                "--config",
                config(release, db, port).toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    Server s = new Server(p, port, log);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        s.get("/_health");
        return s;
      } catch (IOException notYet) {
        assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
        Thread.sleep(100);
      }
    }
    s.close();
    throw new AssertionError("sampled " + release + " did not answer: " + Files.readString(log));
  }

  record Server(Process process, int port, Path log) implements AutoCloseable {
    String get(String path) throws IOException, InterruptedException {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      return r.body();
    }

    @Override
    public void close() throws IOException {
      process.destroy(); // SIGTERM: sampled shuts down cleanly
      try {
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while sampled stopped", e);
      }
      assertThat(Files.readString(log)).contains("stopped").doesNotContain(LocalPostgres.PASSWORD);
    }
  }
}
