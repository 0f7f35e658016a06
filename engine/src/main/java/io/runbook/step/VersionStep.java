package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code version:} reads the installed version, from a command's output or an HTTP endpoint, and
 * compares it with {@code target} by semver. A check: OK with {@code installed}, {@code target},
 * {@code bump} and {@code upgrade} in its data, so that later steps can say {@code when: v.bump ==
 * "major"}; FAILED when no version can be read, or when the target is older than what is installed
 * (unless allow_downgrade).
 */
public final class VersionStep extends StepType<VersionStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param command a shell line (String) or an argv list run on the host; its first version-looking
   *     token counts (stdout, else stderr: {@code java -version} prints there)
   * @param url an http(s) endpoint answering JSON ({@code jsonField}) or plain text
   * @param jsonField dot path of the version in the JSON answer, default "version"
   * @param from "host" (curl on the host, default) or "controller", for url
   */
  public record Args(
      Object command,
      String url,
      @JsonProperty("json_field") String jsonField,
      String from,
      String target,
      @JsonProperty("allow_downgrade") Boolean allowDowngrade) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      if (command instanceof List<?> l) command = l.stream().map(String::valueOf).toList();
      allowDowngrade = allowDowngrade != null && allowDowngrade;
    }

    /** The command line the host's shell runs; null for url. */
    @SuppressWarnings("unchecked")
    String commandLine() {
      if (command instanceof List<?> l)
        return l.isEmpty() || ((String) l.get(0)).isBlank() ? "" : Shell.join((List<String>) l);
      return command instanceof String s ? s : null;
    }
  }

  public VersionStep() {
    super("version", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    String line = a.commandLine();
    boolean hasCommand = line != null && !line.isBlank();
    if (hasCommand == (a.url() != null)) {
      problems.add("give exactly one of 'command' (run on the host) or 'url' (an HTTP endpoint)");
    }
    if (a.url() == null && (a.jsonField() != null || a.from() != null)) {
      problems.add("'json_field' and 'from' go with 'url'");
    }
    if (a.url() != null && !a.url().matches("(?i)https?://\\S+"))
      problems.add("url '" + a.url() + "' is not an http(s) URL");
    if (a.from() != null && !a.from().equals("host") && !a.from().equals("controller")) {
      problems.add("from must be 'host' or 'controller', not '" + a.from() + "'");
    }
    if (a.target() == null || Semver.parse(a.target()).isEmpty()) {
      problems.add(
          "target '"
              + a.target()
              + "' is not a version like 2.0.0 (major.minor.patch, optional -prerelease)");
    }
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) throws InterruptedException {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    Semver target = Semver.parse(a.target()).orElseThrow();
    Semver installed;
    try {
      installed = a.url() != null ? fromUrl(a, ctx) : fromCommand(a.commandLine(), ctx);
    } catch (NoVersion e) {
      return StepResult.failed("cannot read the installed version: " + e.getMessage());
    }
    String bump = installed.bumpTo(target);
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("installed", installed.toString());
    data.put("target", target.toString());
    data.put("bump", bump);
    data.put("upgrade", installed.compareTo(target) < 0);
    String message =
        switch (bump) {
          case "none" -> "installed " + installed + " is the target";
          case "downgrade" -> "installed " + installed + " is newer than the target " + target;
          default -> "installed " + installed + ", target " + target + ": " + bump + " upgrade";
        };
    if (bump.equals("downgrade") && !a.allowDowngrade()) {
      return StepResult.failed(
              message + "; this would be a downgrade (set allow_downgrade: true to allow it)")
          .withData(data);
    }
    return StepResult.ok(message).withData(data);
  }

  /** Why no version could be read; becomes the step's failure. */
  private static final class NoVersion extends Exception {
    NoVersion(String why) {
      super(why, null, false, false);
    }
  }

  private static Semver fromCommand(String line, StepContext ctx) throws NoVersion {
    ExecResult r = ctx.exec(line);
    if (r.timedOut()) throw new NoVersion("'" + line + "' timed out");
    String out = r.stdoutText().strip();
    String err = r.stderrText().strip();
    if (r.exitCode() != 0) {
      String last = err.lines().reduce((x, y) -> y).orElse("");
      throw new NoVersion(
          "'" + line + "' exited " + r.exitCode() + (last.isEmpty() ? "" : ": " + last));
    }
    return Semver.find(out)
        .or(() -> Semver.find(err))
        .orElseThrow(
            () ->
                new NoVersion(
                    "no version in the output of '"
                        + line
                        + "': "
                        + excerpt(out.isEmpty() ? err : out)));
  }

  /** The field of a JSON answer, or the first version in a plain-text one. */
  private static Semver fromUrl(Args a, StepContext ctx) throws NoVersion, InterruptedException {
    HttpStep.Args get =
        new HttpStep.Args(a.url(), "GET", null, null, null, null, null, a.from(), null, null);
    HttpStep.Response resp =
        get.from().equals("controller")
            ? HttpFetch.fromController(get)
            : HttpFetch.fromHost(get, ctx);
    if (resp.error() != null) throw new NoVersion("GET " + a.url() + ": " + resp.error());
    if (resp.status() != 200) throw new NoVersion("GET " + a.url() + " → " + resp.status());
    JsonNode json = HttpStep.parseJson(resp.body());
    if (json == null) {
      return Semver.find(resp.body())
          .orElseThrow(
              () ->
                  new NoVersion(
                      "no version in the answer from " + a.url() + ": " + excerpt(resp.body())));
    }
    String field = a.jsonField() == null ? "version" : a.jsonField();
    JsonNode node = HttpStep.at(json, field);
    if (node == null || node.isNull())
      throw new NoVersion("no field '" + field + "' in the JSON from " + a.url());
    String text = node.isValueNode() ? node.asText() : node.toString();
    return Semver.find(text)
        .orElseThrow(
            () ->
                new NoVersion(
                    "field '"
                        + field
                        + "' from "
                        + a.url()
                        + " is "
                        + excerpt(text)
                        + ", not a version"));
  }

  private static String excerpt(String s) {
    String first = s.lines().findFirst().orElse("").strip();
    if (first.isEmpty()) return "(nothing)";
    return "\"" + (first.length() > 80 ? first.substring(0, 77) + "..." : first) + "\"";
  }
}
