package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.result.StepResult;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code http:} one request, from the host ({@code curl} there, so it sees what the host sees) or
 * from the controller, checked against the expected status, body text and JSON fields. It is a
 * check: OK or FAILED, and CHANGED only for methods that change things (POST, PUT, ...). The parsed
 * JSON body is in the result's data, so {@code register} + {@code until: "health.json.version ==
 * '2.0.0'"} polls a rollout.
 */
public final class HttpStep extends StepType<HttpStep.Args> {
  static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param body text sent as is, or a map/list sent as JSON
   * @param json expected values by dot path into the JSON response ("db.status", "items.0.id"),
   *     compared as strings
   * @param from "host" (default) or "controller"
   */
  public record Args(
      String url,
      String method,
      Map<String, String> headers,
      Object body,
      @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> status,
      @JsonProperty("body_contains") String bodyContains,
      Map<String, Object> json,
      String from,
      @JsonProperty("timeout_seconds") Integer timeoutSeconds,
      @JsonProperty("validate_certs") Boolean validateCerts) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      method = method == null ? "GET" : method.toUpperCase(Locale.ROOT);
      headers =
          headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
      status = status == null || status.isEmpty() ? List.of(200) : List.copyOf(status);
      json = json == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(json));
      from = from == null ? "host" : from;
      timeoutSeconds = timeoutSeconds == null ? 30 : timeoutSeconds;
      validateCerts = validateCerts == null || validateCerts;
    }

    boolean changes() {
      return !method.equals("GET") && !method.equals("HEAD");
    }
  }

  /** What came back; {@code error} is set (and status 0) when no HTTP answer came at all. */
  record Response(int status, String body, String error) {}

  public HttpStep() {
    super("http", Args.class);
  }

  @Override
  public Optional<String> probe(Args args) {
    return Optional.ofNullable(args.url());
  }

  @Override
  public List<String> validate(Args args) {
    List<String> problems = new ArrayList<>();
    if (args.url() == null || !args.url().matches("(?i)https?://\\S+"))
      problems.add("url '" + args.url() + "' is not an http(s) URL");
    if (!args.from().equals("host") && !args.from().equals("controller")) {
      problems.add("from must be 'host' or 'controller', not '" + args.from() + "'");
    }
    args.headers()
        .forEach(
            (k, v) -> {
              if (v.contains("\n") || v.contains("\r"))
                problems.add("header '" + k + "' contains a line break");
            });
    return problems;
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) throws InterruptedException {
    Response resp =
        args.from().equals("controller")
            ? HttpFetch.fromController(args)
            : HttpFetch.fromHost(args, ctx);
    JsonNode json = parseJson(resp.body());
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("status", resp.status());
    String body = resp.body();
    data.put(
        "body",
        body.length() <= StepResult.TAIL
            ? body
            : "…" + body.substring(body.length() - StepResult.TAIL));
    if (json != null) data.put("json", MAPPER.convertValue(json, Object.class));
    if (resp.error() != null) {
      return StepResult.failed(args.method() + " " + args.url() + ": " + resp.error())
          .withData(data);
    }
    List<String> diffs = differences(args, resp, json);
    if (!diffs.isEmpty()) {
      return StepResult.failed(where(args.url()) + ": " + String.join("; ", diffs)).withData(data);
    }
    String msg = args.method() + " " + args.url() + " → " + resp.status();
    return (args.changes() ? StepResult.changed(msg) : StepResult.ok(msg)).withData(data);
  }

  private static List<String> differences(Args args, Response resp, JsonNode json) {
    List<String> diffs = new ArrayList<>();
    if (!args.status().contains(resp.status())) {
      diffs.add(
          "status "
              + resp.status()
              + ", expected "
              + (args.status().size() == 1 ? args.status().get(0) : "one of " + args.status()));
    }
    if (args.bodyContains() != null && !resp.body().contains(args.bodyContains())) {
      diffs.add("body does not contain \"" + args.bodyContains() + "\"");
    }
    if (!args.json().isEmpty() && json == null) {
      diffs.add("body is not JSON");
      return diffs;
    }
    args.json()
        .forEach(
            (path, expected) -> {
              JsonNode actual = at(json, path);
              String want = text(MAPPER.valueToTree(expected));
              if (actual == null) {
                diffs.add("json field '" + path + "' is missing, expected \"" + want + "\"");
              } else if (!text(actual).equals(want)) {
                diffs.add(
                    "json field '"
                        + path
                        + "' is \""
                        + text(actual)
                        + "\", expected \""
                        + want
                        + "\"");
              }
            });
    return diffs;
  }

  /** Follows a dot path; numeric segments index arrays. Null when the path leads nowhere. */
  static JsonNode at(JsonNode root, String path) {
    JsonNode n = root;
    for (String seg : path.split("\\.", -1)) {
      if (n == null) return null;
      n = n.isArray() && seg.matches("\\d+") ? n.get(Integer.parseInt(seg)) : n.get(seg);
    }
    return n;
  }

  private static String text(JsonNode n) {
    return n.isValueNode() ? n.asText() : n.toString();
  }

  /** The body as JSON when it is an object or array, else null. */
  static JsonNode parseJson(String body) {
    String b = body.strip();
    if (!b.startsWith("{") && !b.startsWith("[")) return null;
    try {
      return MAPPER.readTree(b);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The URL's path names the check in messages; the scheme and host are the same for every check.
   */
  private static String where(String url) {
    try {
      String p = URI.create(url).getRawPath();
      return p == null || p.isEmpty() ? url : p;
    } catch (IllegalArgumentException e) {
      return url;
    }
  }
}
