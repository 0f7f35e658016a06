package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStepTest {
  final SqliteStep step = new SqliteStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  StepResult run(String yaml) throws Exception {
    return step.execute(Bind.args(step, yaml), new FakeContext(host, dir));
  }

  static String stdin(ExecRequest r) {
    return new String(r.stdin(), StandardCharsets.UTF_8);
  }

  @Test
  void backupUsesTheOnlineBackupIntoATemporaryFileWithTheSqlOnStdin() throws Exception {
    host.answer(ok("backup " + "c".repeat(64) + " 8192\n"));
    StepResult r = run("{db: /srv/app/data/app.db, backup: \"/srv/backups/it's.db\"}");
    String script = host.last().command();
    assertThat(script)
        .contains(
            "db=/srv/app/data/app.db",
            "out='/srv/backups/it'\"'\"'s.db'",
            "sqlite3 -bail -batch -init /dev/null -cmd '.timeout 5000' \"$db\"",
            "chmod --reference=\"$db\" \"$tmp\"",
            "mv -f \"$tmp\" \"$out\"");
    assertThat(stdin(host.last()))
        .matches("\\.backup \"/srv/backups/it's\\.db\\.runbook-[0-9a-f]{8}\"\n");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo("backed up /srv/app/data/app.db to /srv/backups/it's.db (8192 bytes)");
    assertThat(r.data())
        .containsEntry("db", "/srv/app/data/app.db")
        .containsEntry("backup", "/srv/backups/it's.db")
        .containsEntry("sha256", "c".repeat(64))
        .containsEntry("bytes", 8192L);
  }

  @Test
  void integrityCheckIsOkOnlyWhenSqliteSaysOk() throws Exception {
    host.answer(
        ok("ok\n"),
        ok(
            "*** in database main ***\nPage 5: btreeInitPage() returns error code 11\nrow 3 missing from index i\n"));
    StepResult good = run("{db: /d/app.db, integrity_check: true}");
    assertThat(stdin(host.last())).isEqualTo("PRAGMA integrity_check;\n");
    assertThat(good.status()).isEqualTo(Status.OK);
    assertThat(good.data()).containsEntry("integrity", "ok");
    StepResult bad = run("{db: /d/app.db, integrity_check: true}");
    assertThat(bad.status()).isEqualTo(Status.FAILED);
    assertThat(bad.message())
        .isEqualTo(
            "/d/app.db failed integrity_check: *** in database main *** (and 2 more problems)");
  }

  @Test
  void queryRowsComeFromJsonBetweenTheMarkers() throws Exception {
    host.otherwise(
        req ->
            ok(
                answer(
                    req,
                    "[{\"c\":0,\"s\":4}]",
                    "[{\"id\":1,\"name\":\"a\"},\n{\"id\":2,\"name\":null}]\n[{\"n\":2}]",
                    "[{\"c\":0,\"s\":4}]")));
    StepResult r =
        run(
            "{db: /d/app.db, query: 'SELECT id, name FROM users; SELECT count(*) AS n FROM users'}");
    assertThat(host.last().command()).contains("-json -cmd 'SELECT total_changes()");
    assertThat(stdin(host.last()))
        .startsWith("SELECT id, name FROM users; SELECT count(*) AS n FROM users\n;\n.print ");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("query on /d/app.db: 3 row(s)");
    Map<String, Object> second = new LinkedHashMap<>();
    second.put("id", 2);
    second.put("name", null);
    assertThat(r.data())
        .containsEntry("rows", List.of(Map.of("id", 1, "name", "a"), second, Map.of("n", 2)))
        .containsEntry("changes", 0L);
    assertThat(r.message() + r.data() + r.stdout()).doesNotContain("FROM users");
  }

  @Test
  void withoutJsonSupportTheRowsComeFromCsv() throws Exception {
    host.answer(
        result(1, "", "sqlite3: Error: unknown option: -json\nUse -help for a list of options.\n"));
    host.otherwise(
        req ->
            ok(
                answer(
                    req,
                    "c,s\r\n0,4\r\n",
                    "id,note\r\n1,\"a, \"\"quoted\"\"\r\nline\"\r\n",
                    "c,s\r\n1,4\r\n")));
    StepResult r = run("{db: /d/app.db, query: \"UPDATE users SET note = 'x'\"}");
    assertThat(host.commands()).hasSize(2);
    assertThat(host.last().command()).contains("-csv -header");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).isEqualTo("query on /d/app.db: 1 row(s), 1 changed");
    assertThat(r.data())
        .containsEntry("rows", List.of(Map.of("id", "1", "note", "a, \"quoted\"\r\nline")))
        .containsEntry("changes", 1L);
  }

  @Test
  void csvRepeatsTheHeaderBeforeEachStatementsRows() {
    assertThat(SqliteQuery.fromCsv("a,b\n1,2\na,b\n3,\n"))
        .containsExactly(Map.of("a", "1", "b", "2"), Map.of("a", "3", "b", ""));
    assertThat(SqliteQuery.fromCsv("")).isEmpty();
  }

  /** What sqlite3 prints for the script in {@code req}: state, marker, rows, marker, state. */
  static String answer(ExecRequest req, String before, String rows, String after) {
    Matcher m = Pattern.compile("\\.print (\\S+)").matcher(stdin(req));
    assertThat(m.find()).isTrue();
    String marker = m.group(1);
    return line(before) + marker + "\n" + line(rows) + marker + "\n" + line(after);
  }

  private static String line(String s) {
    return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
  }

  @Test
  void failuresNameTheCauseButNeverTheSql() throws Exception {
    host.answer(
        result(
            1,
            "",
            "Parse error near line 1: no such table: secrets\n  SELECT password FROM secrets\n  ^--- error here\n"),
        result(3, "", "runbook: no database at /d/nope.db\n"));
    StepResult r = run("{db: /d/app.db, query: 'SELECT password FROM secrets'}");
    assertThat(r.message())
        .isEqualTo("query on /d/app.db failed: Parse error near line 1: no such table: secrets");
    assertThat(r.stdout()).isNull();
    assertThat(r.stderr()).isNull();
    assertThat(run("{db: /d/nope.db, integrity_check: true}").message())
        .isEqualTo("no database at /d/nope.db");
  }

  @Test
  void validationWantsExactlyOneThing() {
    String one = "give exactly one of 'backup' (a file), 'integrity_check: true' or 'query' (SQL)";
    assertThat(step.validate(Bind.args(step, "{db: /d/app.db}"))).containsExactly(one);
    assertThat(
            step.validate(
                Bind.args(step, "{db: /d/app.db, query: 'SELECT 1', integrity_check: true}")))
        .containsExactly(one);
    assertThat(step.validate(Bind.args(step, "{db: /d/app.db, integrity_check: false}")))
        .containsExactly(one);
    assertThat(step.validate(Bind.args(step, "{db: /d/app.db, backup: backups/app.db}")))
        .containsExactly("backup 'backups/app.db' must be the absolute path of a file");
    assertThat(step.validate(Bind.args(step, "{backup: /b/app.db}")))
        .containsExactly("'db' is missing: the database file on the host");
  }

  @Nested
  class OnARealDatabase {
    FakeContext ctx;
    Path db;

    @BeforeEach
    void setUp() throws Exception {
      ctx = new FakeContext(new LocalTransport("local"), dir);
      db = dir.resolve("data/app.db");
      Files.createDirectories(db.getParent());
      sql(
          db,
          "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, score REAL); "
              + "INSERT INTO users(name, score) VALUES ('ann', 1.5), ('bob', NULL);");
      Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-------"));
    }

    String sql(Path file, String statements) {
      ExecResult r = ctx.exec("sqlite3 '" + file + "' \"" + statements + "\"");
      assertThat(r.exitCode()).as(r.stderrText()).isZero();
      return r.stdoutText().strip();
    }

    StepResult sqlite(String yaml) throws Exception {
      return step.execute(Bind.args(step, yaml), ctx);
    }

    @Test
    void backupIsConsistentWhileAWriterHoldsAnOpenTransaction() throws Exception {
      Process writer =
          new ProcessBuilder(
                  "python3",
                  "-c",
                  """
                  import sqlite3, sys
                  c = sqlite3.connect(sys.argv[1], isolation_level=None)
                  c.execute('BEGIN IMMEDIATE'); c.execute("INSERT INTO users(name) VALUES ('uncommitted')")
                  print('writing', flush=True); sys.stdin.read(); c.execute('COMMIT')
                  """,
                  db.toString())
              .start();
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
        assertThat(out.readLine()).isEqualTo("writing");
        Path copy = dir.resolve("backups/app-before.db");
        StepResult r = sqlite("{db: '" + db + "', backup: '" + copy + "'}");
        assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
        assertThat(r.data())
            .containsEntry("sha256", RemoteFile.sha256(Files.readAllBytes(copy)))
            .containsEntry("bytes", Files.size(copy));
        assertThat(sql(copy, "SELECT group_concat(name) FROM users")).isEqualTo("ann,bob");
        assertThat(sql(copy, "PRAGMA integrity_check")).isEqualTo("ok");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)))
            .isEqualTo("rw-------");
        try (var left = Files.list(copy.getParent())) {
          assertThat(left).containsExactly(copy);
        }
      } finally {
        writer.getOutputStream().close();
        writer.waitFor();
      }
      assertThat(sql(db, "SELECT count(*) FROM users")).isEqualTo("3");
    }

    @Test
    void integrityCheckPassesAndCatchesACorruptIndex() throws Exception {
      StepResult good = sqlite("{db: '" + db + "', integrity_check: true}");
      assertThat(good.status()).as(good.message()).isEqualTo(Status.OK);
      assertThat(good.message()).isEqualTo(db + ": integrity_check ok");

      sql(
          db,
          "CREATE INDEX by_name ON users(name); PRAGMA writable_schema=ON; "
              + "UPDATE sqlite_master SET sql='CREATE INDEX by_name ON users(name DESC)' WHERE name='by_name';");
      StepResult bad = sqlite("{db: '" + db + "', integrity_check: true}");
      assertThat(bad.status()).isEqualTo(Status.FAILED);
      assertThat(bad.message())
          .matches(
              Pattern.quote(db + " failed integrity_check: row ")
                  + "\\d missing from index by_name.*");

      Files.writeString(db, "this is not a database, it only has the name of one");
      StepResult garbage = sqlite("{db: '" + db + "', integrity_check: true}");
      assertThat(garbage.status()).isEqualTo(Status.FAILED);
      assertThat(garbage.message())
          .isEqualTo(
              "integrity_check of "
                  + db
                  + " failed: Parse error near line 1: file is not a database (26)");
    }

    @Test
    void queryReturnsTypedRowsAndSaysWhenItChangedSomething() throws Exception {
      StepResult read =
          sqlite("{db: '" + db + "', query: 'SELECT id, name, score FROM users ORDER BY id'}");
      assertThat(read.status()).as(read.message()).isEqualTo(Status.OK);
      Map<String, Object> bob = new LinkedHashMap<>();
      bob.put("id", 2);
      bob.put("name", "bob");
      bob.put("score", null);
      assertThat(read.data().get("rows"))
          .isEqualTo(List.of(Map.of("id", 1, "name", "ann", "score", 1.5), bob));

      StepResult write =
          sqlite(
              "{db: '"
                  + db
                  + "', query: \"UPDATE users SET score = 2 WHERE name = 'bob'; "
                  + "DELETE FROM users WHERE name = 'ann'\"}");
      assertThat(write.status()).isEqualTo(Status.CHANGED);
      assertThat(write.message()).isEqualTo("query on " + db + ": 0 row(s), 2 changed");

      StepResult ddl = sqlite("{db: '" + db + "', query: 'CREATE TABLE audit(at TEXT)'}");
      assertThat(ddl.status()).isEqualTo(Status.CHANGED);
      assertThat(ddl.message()).isEqualTo("query on " + db + ": 0 row(s), schema changed");

      StepResult wrong = sqlite("{db: '" + db + "', query: 'SELECT * FROM nope'}");
      assertThat(wrong.status()).isEqualTo(Status.FAILED);
      assertThat(wrong.message())
          .isEqualTo("query on " + db + " failed: Parse error near line 1: no such table: nope");
    }

    @Test
    void aMissingDatabaseIsNotCreated() throws Exception {
      Path missing = dir.resolve("data/typo.db");
      StepResult r = sqlite("{db: '" + missing + "', query: 'SELECT 1'}");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message()).isEqualTo("no database at " + missing);
      assertThat(missing).doesNotExist();
    }
  }
}
