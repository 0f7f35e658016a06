package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code sqlite:} one of three things with the host's {@code sqlite3} on a database file: an online
 * {@code backup} (SQLite's backup API, consistent while the service keeps writing), an {@code
 * integrity_check}, or a {@code query} whose rows land in the result's data. Every run uses {@code
 * -bail}, a 5 s busy time-out, and no {@code ~/.sqliterc} (it could change the output format). SQL
 * travels on stdin, never on the command line, and never into a message.
 */
public final class SqliteStep extends StepType<SqliteStep.Args> {
  static final String BUSY_TIMEOUT = ".timeout 5000";

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param db the database file on the host
   * @param backup file to write an online copy of the database to
   * @param integrityCheck true to run {@code PRAGMA integrity_check}
   * @param query SQL whose result rows the step registers as {@code rows}
   */
  public record Args(
      String db,
      String backup,
      @JsonProperty("integrity_check") Boolean integrityCheck,
      String query) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      integrityCheck = integrityCheck != null && integrityCheck;
    }
  }

  public SqliteStep() {
    super("sqlite", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    if (a.db() == null || a.db().isBlank())
      problems.add("'db' is missing: the database file on the host");
    int what =
        (a.backup() != null ? 1 : 0) + (a.integrityCheck() ? 1 : 0) + (a.query() != null ? 1 : 0);
    if (what != 1)
      problems.add(
          "give exactly one of 'backup' (a file), 'integrity_check: true' or 'query' (SQL)");
    if (a.backup() != null
        && (!a.backup().startsWith("/") || a.backup().endsWith("/") || a.backup().contains("\n"))) {
      problems.add("backup '" + a.backup() + "' must be the absolute path of a file");
    }
    if (a.query() != null && a.query().isBlank()) problems.add("'query' is empty");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    if (a.query() != null) return SqliteQuery.run(ctx, a.db(), a.query());
    return a.integrityCheck() ? integrityCheck(ctx, a.db()) : backup(ctx, a.db(), a.backup());
  }

  /** Shell lines that set {@code $db}, then refuse unless it is a file and sqlite3 is installed. */
  static String checks(String db) {
    return "db="
        + Shell.quote(db)
        + "\n"
        + "[ -f \"$db\" ] || { echo \""
        + HostScript.SAYS
        + "no database at $db\" >&2; exit 3; }\n"
        + "command -v sqlite3 >/dev/null || { echo \""
        + HostScript.SAYS
        + "sqlite3 is not installed on the host\" >&2; exit 3; }\n";
  }

  /** Runs sqlite3 on {@code $db}, reading its input from stdin. */
  static String sqlite3(String options) {
    return "sqlite3 -bail -batch -init /dev/null"
        + (options.isEmpty() ? "" : " " + options)
        + " -cmd "
        + Shell.quote(BUSY_TIMEOUT)
        + " \"$db\"";
  }

  private static StepResult integrityCheck(StepContext ctx, String db) {
    ExecResult r =
        HostScript.run(ctx, checks(db) + sqlite3(""), bytes("PRAGMA integrity_check;\n"));
    if (r.exitCode() != 0 || r.timedOut())
      return HostScript.failed(r, "integrity_check of " + db + " failed");
    List<String> lines =
        r.stdoutText().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    Map<String, Object> data = Map.of("db", db, "integrity", String.join("\n", lines));
    if (lines.equals(List.of("ok")))
      return StepResult.ok(db + ": integrity_check ok").withData(data);
    String first = lines.isEmpty() ? "no answer" : lines.get(0);
    return StepResult.failed(
            db
                + " failed integrity_check: "
                + first
                + (lines.size() > 1 ? " (and " + (lines.size() - 1) + " more problems)" : ""))
        .withData(data);
  }

  /**
   * Into a temporary file next to the destination, renamed over it when complete: a failed or
   * interrupted backup never leaves a half-written copy under the real name. The copy gets the
   * database's mode and owner, since it holds the same data.
   */
  private static StepResult backup(StepContext ctx, String db, String dest) {
    String tmp =
        dest + ".runbook-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    String script =
        "set -e; out="
            + Shell.quote(dest)
            + "; tmp="
            + Shell.quote(tmp)
            + "\n"
            + checks(db)
            + "mkdir -p \"$(dirname \"$out\")\"; trap 'rm -f \"$tmp\"' EXIT\n"
            + sqlite3("")
            + "\n"
            + "chmod --reference=\"$db\" \"$tmp\"; chown --reference=\"$db\" \"$tmp\" 2>/dev/null || true\n"
            + "mv -f \"$tmp\" \"$out\"; s=$(sha256sum < \"$out\"); echo \"backup ${s%% *} $(stat -c %s \"$out\")\"\n";
    // Double quotes, so that sqlite3 reads backslash escapes; the path is whatever the runbook
    // says.
    String quoted = "\"" + tmp.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    ExecResult r = HostScript.run(ctx, script, bytes(".backup " + quoted + "\n"));
    if (r.exitCode() != 0 || r.timedOut())
      return HostScript.failed(r, "cannot back up " + db + " to " + dest);
    String[] made = HostScript.tagged(r, "backup").stream().findFirst().orElse("").split(" ", -1);
    if (made.length != 2)
      return StepResult.failed(
          "backup of " + db + ": unexpected answer '" + r.stdoutText().strip() + "'");
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("db", db);
    data.put("backup", dest);
    data.put("sha256", made[0]);
    data.put("bytes", Long.parseLong(made[1]));
    return StepResult.changed("backed up " + db + " to " + dest + " (" + made[1] + " bytes)")
        .withData(data);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
