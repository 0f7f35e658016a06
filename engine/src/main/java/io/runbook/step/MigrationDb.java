package io.runbook.step;

import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The database a {@code migrate} step talks to, through its command-line client on the host: one
 * command per exchange, the SQL on stdin. SQLite runs {@code sqlite3 -bail} with its own {@code
 * BEGIN}/{@code COMMIT}; PostgreSQL runs {@code psql -v ON_ERROR_STOP=1 --single-transaction}.
 * Either way a failing or killed migration leaves nothing of itself behind, record included.
 *
 * <p>The PostgreSQL connection string is the first line of stdin, read by the shell, so that a
 * password in it is in no command line the engine builds, logs or journals.
 *
 * @param engine "sqlite" or "postgres"
 * @param db the SQLite file, or the PostgreSQL connection string (URL or {@code key=value} form)
 * @param table the tracking table, {@code (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)}
 */
record MigrationDb(String engine, String db, String table) {
  static final List<String> ENGINES = List.of("sqlite", "postgres");
  static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

  /**
   * The table name reaches SQL text, and sqlite3 reads dot-commands ({@code .shell}) from that same
   * stdin: whatever the caller checked, nothing but a plain (optionally schema-qualified) name gets
   * here.
   */
  MigrationDb {
    if (table == null || !TABLE.matcher(table).matches()) {
      throw new IllegalArgumentException("'table' must be a plain SQL name such as migrations");
    }
  }

  // "Parse error near line 4: duplicate column name: x", "Error: unable to open database ..."
  private static final Pattern SQLITE_ERROR =
      Pattern.compile("(?:Parse error|Runtime error|Error):? ?(?:near line (\\d+): )?(.*)");
  // "psql:<stdin>:3: ERROR:  column "x" of relation "m" already exists", "psql: error: connection
  // ..."
  private static final Pattern PSQL_ERROR =
      Pattern.compile("psql(?::[^:]*:(\\d+))?: (?:ERROR|FATAL|error):\\s+(.*)");
  private static final String PG_NOW = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')";

  boolean postgres() {
    return engine.equals("postgres");
  }

  /** Creates the tracking table if missing and lists the recorded versions, one per line. */
  ExecRequest listApplied(Duration timeout, Become become) {
    String sql =
        (postgres() ? "SET client_min_messages = warning;\n" : "")
            + "CREATE TABLE IF NOT EXISTS "
            + quotedTable()
            + " (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL);\n"
            + "SELECT version FROM "
            + quotedTable()
            + " ORDER BY version;\n";
    return request(sql, timeout, become);
  }

  /**
   * Runs one migration and records it, in one transaction. What comes first shares the migration's
   * first line, so that the line an error names is the line in the migration's file. PostgreSQL
   * also stops the statement itself at the time-out: killing psql alone would leave it running on
   * the server, holding its locks, until it next talks to the client.
   */
  ExecRequest apply(String version, String sql, Duration timeout, Become become) {
    String body = sql + "\n;\n" + insert(version) + "\n";
    String script =
        postgres()
            ? "SET statement_timeout = " + timeout.toMillis() + "; " + body
            : "BEGIN; " + body + "COMMIT;\n";
    return request(script, timeout, become);
  }

  /** Records migrations as applied without running them, in one transaction. */
  ExecRequest mark(List<String> versions, Duration timeout, Become become) {
    String inserts = String.join("\n", versions.stream().map(this::insert).toList()) + "\n";
    return request(postgres() ? inserts : "BEGIN;\n" + inserts + "COMMIT;\n", timeout, become);
  }

  /** The database's own words for a failure, and the line of the migration it names (or null). */
  record Failure(String error, Integer line) {}

  static Failure failure(String engine, ExecResult r) {
    Pattern p = engine.equals("postgres") ? PSQL_ERROR : SQLITE_ERROR;
    List<String> lines =
        r.stderrText().strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    for (String l : lines) {
      Matcher m = p.matcher(l);
      if (!m.matches()) continue;
      return new Failure(m.group(2), m.group(1) == null ? null : Integer.valueOf(m.group(1)));
    }
    if (!lines.isEmpty()) return new Failure(lines.get(lines.size() - 1), null);
    return new Failure("exit code " + r.exitCode(), null);
  }

  /**
   * Whether the error says that what the migration creates is there already: the seed guide's
   * partly applied migration (its changes exist, its record does not).
   */
  static boolean partlyApplied(String error) {
    return error.contains("duplicate column name") || error.contains("already exists");
  }

  /** PostgreSQL's own stop at the time-out, which may come just before the transport's. */
  static boolean timedOut(String error) {
    return error.contains("canceling statement due to statement timeout");
  }

  /** For messages: the SQLite path, or the connection string without its password. */
  String describe() {
    if (!postgres()) return db;
    return db.replaceAll("(://[^:/@]*:)[^@]*@", "$1***@")
        .replaceAll("(password\\s*=\\s*)('[^']*'|\\S+)", "$1***");
  }

  private String insert(String version) {
    String now = postgres() ? PG_NOW : "datetime('now')";
    return "INSERT INTO "
        + quotedTable()
        + " (version, applied_at) VALUES ('"
        + version.replace("'", "''")
        + "', "
        + now
        + ");";
  }

  /**
   * The table as a quoted identifier ({@code "schema"."name"}), the second guard after {@link
   * #TABLE}. PostgreSQL folds an unquoted name to lower case and keeps a quoted one as written, so
   * the name is lower-cased there: {@code table: Migrations} keeps meaning the table it always
   * meant. SQLite compares names without regard to case, quoted or not.
   */
  String quotedTable() {
    StringBuilder out = new StringBuilder();
    for (String part : table.split("\\.", -1)) {
      if (out.length() > 0) out.append('.');
      out.append('"').append(postgres() ? part.toLowerCase(Locale.ROOT) : part).append('"');
    }
    return out.toString();
  }

  private ExecRequest request(String sql, Duration timeout, Become become) {
    String command =
        postgres()
            ? "IFS= read -r url && exec psql -X -q -A -t -v ON_ERROR_STOP=1 --single-transaction -f - \"$url\""
            : "exec sqlite3 -bail -batch -init /dev/null " + Shell.quote(db);
    String stdin = postgres() ? db + "\n" + sql : sql;
    return ExecRequest.builder(command)
        .stdin(stdin.getBytes(StandardCharsets.UTF_8))
        .timeout(timeout)
        .become(become)
        .build();
  }
}
