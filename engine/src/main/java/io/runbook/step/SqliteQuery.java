package io.runbook.step;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The {@code query} of the {@code sqlite} step. Rows come from {@code sqlite3 -json} (3.33 and
 * later), else from {@code -csv -header}, where every value is text and a multi-statement query's
 * rows are read with the first header. The query is bracketed by two reads of {@code
 * total_changes()} and the schema version, with marker lines between, so the step can say whether
 * it changed the database.
 */
final class SqliteQuery {
  private static final String STATE =
      "SELECT total_changes() AS c, schema_version AS s FROM pragma_schema_version;";

  private SqliteQuery() {}

  static StepResult run(StepContext ctx, String db, String sql) {
    String marker = "--runbook-" + UUID.randomUUID() + "--";
    boolean json = true;
    ExecResult r = exec(ctx, db, sql, marker, "-json");
    if (r.exitCode() != 0 && r.stderrText().contains("-json")) {
      json = false; // "sqlite3: Error: unknown option: -json" before 3.33
      r = exec(ctx, db, sql, marker, "-csv -header");
    }
    if (r.exitCode() != 0 || r.timedOut()) {
      // Only the message: sqlite3 echoes the failing statement on stderr, and stdout holds rows.
      return StepResult.failed(HostScript.failed(r, "query on " + db + " failed").message());
    }
    List<String> sections =
        List.of(r.stdoutText().split("(?m)^" + Pattern.quote(marker) + "\\R?", -1));
    if (sections.size() != 3)
      return StepResult.failed("query on " + db + ": unexpected output from sqlite3");
    List<Map<String, Object>> before;
    List<Map<String, Object>> rows;
    List<Map<String, Object>> after;
    try {
      before = json ? fromJson(sections.get(0)) : fromCsv(sections.get(0));
      rows = json ? fromJson(sections.get(1)) : fromCsv(sections.get(1));
      after = json ? fromJson(sections.get(2)) : fromCsv(sections.get(2));
    } catch (IOException e) {
      return StepResult.failed(
          "query on "
              + db
              + ": cannot read sqlite3's JSON: "
              + e.getMessage().lines().findFirst().orElse(""));
    }
    if (before.size() != 1 || after.size() != 1)
      return StepResult.failed("query on " + db + ": unexpected output from sqlite3");
    long changes = number(after.get(0).get("c")) - number(before.get(0).get("c"));
    boolean schema = number(after.get(0).get("s")) != number(before.get(0).get("s"));
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("db", db);
    data.put("rows", rows);
    data.put("changes", changes);
    String message =
        "query on "
            + db
            + ": "
            + rows.size()
            + " row(s)"
            + (changes > 0 ? ", " + changes + " changed" : "")
            + (schema ? ", schema changed" : "");
    return (changes > 0 || schema ? StepResult.changed(message) : StepResult.ok(message))
        .withData(data);
  }

  private static ExecResult exec(
      StepContext ctx, String db, String sql, String marker, String mode) {
    String options =
        mode + " -cmd " + Shell.quote(STATE) + " -cmd " + Shell.quote(".print " + marker);
    // The ";" ends a last statement written without one; an empty statement is harmless.
    String input = sql + "\n;\n.print " + marker + "\n" + STATE + "\n";
    return HostScript.run(
        ctx, SqliteStep.checks(db) + SqliteStep.sqlite3(options), SqliteStep.bytes(input));
  }

  /** One JSON array per statement that returned rows, one after the other. */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> fromJson(String text) throws IOException {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (JsonParser p = HttpStep.MAPPER.createParser(text)) {
      while (p.nextToken() != null) {
        for (JsonNode row : HttpStep.MAPPER.<JsonNode>readTree(p))
          rows.add(HttpStep.MAPPER.convertValue(row, LinkedHashMap.class));
      }
    }
    return rows;
  }

  /**
   * RFC 4180 as sqlite3 writes it: quoted fields may hold commas, doubled quotes and line breaks.
   */
  static List<Map<String, Object>> fromCsv(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c != '"') field.append(c);
        else if (i + 1 < text.length() && text.charAt(i + 1) == '"') field.append(text.charAt(++i));
        else quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
        record.add(field.toString());
        field.setLength(0);
        records.add(record);
        record = new ArrayList<>();
      } else {
        field.append(c);
      }
    }
    if (field.length() > 0 || !record.isEmpty()) {
      record.add(field.toString());
      records.add(record);
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (List<String> rec : records.subList(Math.min(1, records.size()), records.size())) {
      if (rec.equals(records.get(0))) continue; // the header again, before another statement's rows
      Map<String, Object> row = new LinkedHashMap<>();
      for (int i = 0; i < records.get(0).size(); i++)
        row.put(records.get(0).get(i), i < rec.size() ? rec.get(i) : null);
      rows.add(row);
    }
    return rows;
  }

  private static long number(Object o) {
    return o instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(o).strip());
  }
}
