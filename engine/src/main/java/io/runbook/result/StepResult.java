package io.runbook.result;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.util.StdConverter;
import io.runbook.transport.ExecResult;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one step did on one host. Output streams keep their tail only ({@link #TAIL} characters).
 *
 * @param status ok, changed, failed or skipped
 * @param rc exit code for command-like steps, else null
 * @param stdout captured standard output (tail)
 * @param stderr captured standard error (tail)
 * @param message one line saying what happened, for failures what went wrong
 * @param data step-specific values (http status, parsed JSON, checksums) exposed to {@code
 *     register}; keys starting with {@code _} are the step's own undo state: never registered,
 *     journaled or printed
 * @param durationMillis wall time of the step including retries
 * @param attempts how many times the step ran
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepResult(
    Status status,
    Integer rc,
    String stdout,
    String stderr,
    String message,
    @JsonSerialize(converter = StepResult.PublicData.class) Map<String, Object> data,
    long durationMillis,
    int attempts) {

  /** How many characters of each output stream a result keeps. */
  public static final int TAIL = 16 * 1024;

  public StepResult {
    stdout = tail(stdout);
    stderr = tail(stderr);
    data = data == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(data));
  }

  public static StepResult of(Status status, String message) {
    return new StepResult(status, null, null, null, message, Map.of(), 0, 1);
  }

  public static StepResult ok(String message) {
    return of(Status.OK, message);
  }

  public static StepResult changed(String message) {
    return of(Status.CHANGED, message);
  }

  public static StepResult failed(String message) {
    return of(Status.FAILED, message);
  }

  public static StepResult skipped(String message) {
    return of(Status.SKIPPED, message);
  }

  /** A result for a command: changed when it exited 0, failed otherwise. */
  public static StepResult fromExec(ExecResult r) {
    Status s = r.exitCode() == 0 && !r.timedOut() ? Status.CHANGED : Status.FAILED;
    String msg =
        r.timedOut()
            ? "timed out after " + r.duration().toSeconds() + " s"
            : r.exitCode() == 0 ? null : "exit code " + r.exitCode() + lastLine(r.stderrText());
    return new StepResult(
        s,
        r.timedOut() ? null : r.exitCode(),
        r.stdoutText(),
        r.stderrText(),
        msg,
        Map.of(),
        r.duration().toMillis(),
        1);
  }

  public StepResult withStatus(Status s, String msg) {
    return new StepResult(s, rc, stdout, stderr, msg, data, durationMillis, attempts);
  }

  public StepResult withData(Map<String, Object> more) {
    Map<String, Object> d = new LinkedHashMap<>(data);
    d.putAll(more);
    return new StepResult(status, rc, stdout, stderr, message, d, durationMillis, attempts);
  }

  public StepResult withTiming(Duration duration, int attempts) {
    return new StepResult(status, rc, stdout, stderr, message, data, duration.toMillis(), attempts);
  }

  @JsonIgnore
  public boolean failed() {
    return status == Status.FAILED;
  }

  @JsonIgnore
  public boolean changed() {
    return status == Status.CHANGED;
  }

  /**
   * The value a {@code register:} stores: rc, stdout, stderr, stdout_lines, msg, changed, failed,
   * skipped, status, plus the step's {@link #data()}.
   */
  public Map<String, Object> registered() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", status.name().toLowerCase(Locale.ROOT));
    m.put("changed", status == Status.CHANGED);
    m.put("failed", status == Status.FAILED);
    m.put("skipped", status == Status.SKIPPED);
    m.put("rc", rc == null ? 0 : rc);
    String out = stdout == null ? "" : stdout.strip();
    m.put("stdout", out);
    m.put("stderr", stderr == null ? "" : stderr.strip());
    m.put("stdout_lines", out.isEmpty() ? List.of() : List.of(out.split("\\R")));
    m.put("msg", message == null ? "" : message);
    m.putAll(PublicData.strip(data));
    return m;
  }

  /** Drops the undo state ({@code _} keys) from what leaves the step: journal, --json, register. */
  public static final class PublicData
      extends StdConverter<Map<String, Object>, Map<String, Object>> {
    @Override
    public Map<String, Object> convert(Map<String, Object> value) {
      return strip(value);
    }

    static Map<String, Object> strip(Map<String, Object> data) {
      if (data.keySet().stream().noneMatch(k -> k.startsWith("_"))) return data;
      Map<String, Object> out = new LinkedHashMap<>();
      data.forEach(
          (k, v) -> {
            if (!k.startsWith("_")) out.put(k, v);
          });
      return out;
    }
  }

  private static String tail(String s) {
    if (s == null || s.length() <= TAIL) return s;
    return "…" + s.substring(s.length() - TAIL);
  }

  private static String lastLine(String stderr) {
    String s = stderr == null ? "" : stderr.strip();
    if (s.isEmpty()) return "";
    int nl = s.lastIndexOf('\n');
    return ": " + (nl < 0 ? s : s.substring(nl + 1));
  }
}
