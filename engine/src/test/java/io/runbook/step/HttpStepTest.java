package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import io.runbook.transport.LocalTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpStepTest {
  final HttpStep step = new HttpStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  StepResult run(String yaml) throws Exception {
    return step.execute(Bind.args(step, yaml), new FakeContext(host, dir));
  }

  @Test
  void getRunsCurlOnTheHostWithTheStatusAfterTheBody() throws Exception {
    host.answer(ok("{\"status\":\"UP\"}\n200"));
    StepResult r = run("{url: 'http://127.0.0.1:8080/_health'}");
    assertThat(host.last().command())
        .isEqualTo("curl -sS -K - -w '\\n%{http_code}' --max-time 30 -o - -X GET");
    assertThat(new String(host.last().stdin(), StandardCharsets.UTF_8))
        .isEqualTo("url = \"http://127.0.0.1:8080/_health\"\n");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("GET http://127.0.0.1:8080/_health → 200");
    assertThat(r.data())
        .containsEntry("status", 200)
        .containsEntry("body", "{\"status\":\"UP\"}")
        .containsEntry("json", Map.of("status", "UP"));
  }

  @Test
  void postSendsHeadersAndAJsonBodyOnStdinAndIsChanged() throws Exception {
    host.answer(ok("created\n201"));
    StepResult r =
        run(
            """
        url: https://api.example.com/deploys?x=1&y=2
        method: post
        headers: {Authorization: Bearer abc}
        body: {version: 2.0.0, force: true}
        status: [200, 201]
        timeout_seconds: 5
        validate_certs: false
        """);
    // nothing of the request in argv, which any user of the host sees in ps: curl reads it as a
    // config on stdin
    assertThat(host.last().command())
        .isEqualTo("curl -sS -K - -w '\\n%{http_code}' --max-time 5 -o - -X POST -k");
    assertThat(new String(host.last().stdin(), StandardCharsets.UTF_8))
        .isEqualTo(
            """
        url = "https://api.example.com/deploys?x=1&y=2"
        header = "Authorization: Bearer abc"
        header = "Content-Type: application/json"
        data-raw = "{\\"version\\":\\"2.0.0\\",\\"force\\":true}"
        """);
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.data())
        .containsEntry("status", 201)
        .containsEntry("body", "created")
        .doesNotContainKey("json");
  }

  @Test
  void headUsesCurlsHeadOption() throws Exception {
    host.answer(ok("\n204"));
    StepResult r = run("{url: 'http://h/x', method: HEAD, status: 204}");
    assertThat(host.last().command()).endsWith(" --head -o /dev/null").doesNotContain("-X");
    assertThat(r.status()).isEqualTo(Status.OK);
  }

  @Test
  void bodyKeepsItsOwnTrailingNewlines() throws Exception {
    host.answer(ok("line one\n\n\n200"));
    assertThat(run("{url: 'http://h/'}").data()).containsEntry("body", "line one\n\n");
  }

  @Test
  void jsonMismatchSaysWhatDiffered() throws Exception {
    host.answer(
        ok("{\"version\":\"1.2.3\",\"db\":{\"ok\":true},\"nodes\":[{\"name\":\"a\"}]}\n200"));
    StepResult r =
        run(
            "{url: 'http://127.0.0.1:8080/_health', json: {version: 2.0.0, db.ok: true, nodes.0.name: a}}");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo("/_health: json field 'version' is \"1.2.3\", expected \"2.0.0\"");
    assertThat(r.data().get("json")).isInstanceOf(Map.class);
  }

  @Test
  void everyDifferenceIsListed() throws Exception {
    host.answer(ok("{\"state\":\"draining\"}\n503"));
    StepResult r =
        run("{url: 'http://h/_health', body_contains: UP, json: {state: ready, missing.field: 1}}");
    assertThat(r.message())
        .isEqualTo(
            "/_health: status 503, expected 200; body does not contain \"UP\";"
                + " json field 'state' is \"draining\", expected \"ready\"; json field 'missing.field' is missing, expected \"1\"");
  }

  @Test
  void statusListIsNamedInTheMessage() throws Exception {
    host.answer(ok("nope\n500"));
    assertThat(run("{url: 'http://h/', status: [200, 204]}").message())
        .isEqualTo("/: status 500, expected one of [200, 204]");
  }

  @Test
  void nonJsonBodyFailsJsonExpectations() throws Exception {
    host.answer(ok("<html>\n200"));
    assertThat(run("{url: 'http://h/x', json: {a: 1}}").message())
        .isEqualTo("/x: body is not JSON");
  }

  @Test
  void curlErrorFailsWithCurlsMessageAndStatusZero() throws Exception {
    host.answer(
        result(
            7, "\n000", "curl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused\n"));
    StepResult r = run("{url: 'http://127.0.0.1:9/'}");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "GET http://127.0.0.1:9/: curl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused");
    assertThat(r.data()).containsEntry("status", 0);
  }

  @Test
  void missingCurlSaysWhatToDo() throws Exception {
    host.answer(result(127, "", "sh: 1: curl: not found\n"));
    assertThat(run("{url: 'http://h/'}").message())
        .endsWith("curl is not installed on the host; install it or use from: controller");
  }

  @Test
  void registeredJsonServesAnUntilCondition() throws Exception {
    host.answer(ok("{\"version\":\"2.0.0\",\"replicas\":3}\n200"));
    Map<String, Object> health = run("{url: 'http://h/_health'}").registered();
    Map<String, Object> vars = Map.of("health", health);
    assertThat(
            Templates.evaluate(
                "health.json.version == '2.0.0' && health.json.replicas >= 3", "until", vars))
        .isTrue();
    assertThat(Templates.evaluate("health.status == 200", "until", vars)).isTrue();
  }

  @Test
  void renderedTemplatesBindAsNumbersAndBooleans() {
    // What "[=code]", "[=secs]" and "[=strict]" look like once the engine has rendered them.
    HttpStep.Args a =
        Bind.args(
            step,
            "{url: 'http://h/', status: '201', timeout_seconds: '5', validate_certs: 'false'}");
    assertThat(a.status()).containsExactly(201);
    assertThat(a.timeoutSeconds()).isEqualTo(5);
    assertThat(a.validateCerts()).isFalse();
    assertThat(a.method()).isEqualTo("GET");
    assertThat(a.from()).isEqualTo("host");
  }

  @Test
  void validationCatchesBadUrlsFromAndHeaders() {
    assertThat(
            step.validate(
                Bind.args(step, "{url: 'ftp://x', from: laptop, headers: {X: \"a\\nb\"}}")))
        .containsExactly(
            "url 'ftp://x' is not an http(s) URL",
            "from must be 'host' or 'controller', not 'laptop'",
            "header 'X' contains a line break");
  }

  /**
   * Real requests to a real server, sent by real curl on the "host" and by the controller's
   * HttpClient.
   */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class AgainstARealServer {
    HttpServer server;
    String base;

    @BeforeAll
    void start() throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext(
          "/_health",
          ex ->
              reply(
                  ex,
                  200,
                  "{\"status\":\"UP\",\"version\":\"1.2.3\",\"nodes\":[{\"name\":\"a\"},{\"name\":\"b\"}]}"));
      server.createContext(
          "/echo",
          ex ->
              reply(
                  ex,
                  201,
                  ex.getRequestMethod()
                      + " "
                      + ex.getRequestHeaders().getFirst("X-Token")
                      + " "
                      + ex.getRequestHeaders().getFirst("Content-Type")
                      + " "
                      + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
      server.createContext("/down", ex -> reply(ex, 503, "maintenance"));
      server.start();
      base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    void stop() {
      server.stop(0);
    }

    void reply(HttpExchange ex, int status, String body) throws IOException {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    }

    StepResult call(String from, String more) throws Exception {
      return step.execute(
          Bind.args(step, "{from: " + from + ", " + more + "}"),
          new FakeContext(new LocalTransport("local"), dir));
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void healthJsonIsCheckedAndRegistered(String from) throws Exception {
      StepResult r = call(from, "url: '" + base + "/_health', json: {status: UP, nodes.1.name: b}");
      assertThat(r.status()).isEqualTo(Status.OK);
      assertThat(r.data()).containsEntry("status", 200);
      @SuppressWarnings("unchecked")
      Map<String, Object> json = (Map<String, Object>) r.data().get("json");
      assertThat(json).containsEntry("version", "1.2.3");
      assertThat(json.get("nodes")).isEqualTo(List.of(Map.of("name", "a"), Map.of("name", "b")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void versionMismatchFails(String from) throws Exception {
      StepResult r = call(from, "url: '" + base + "/_health', json: {version: 2.0.0}");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo("/_health: json field 'version' is \"1.2.3\", expected \"2.0.0\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void postDeliversMethodHeadersAndBody(String from) throws Exception {
      StepResult r =
          call(
              from,
              "url: '"
                  + base
                  + "/echo', method: PUT, headers: {X-Token: s3cr3t}, body: {v: 2}, status: 201");
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(r.data()).containsEntry("body", "PUT s3cr3t application/json {\"v\":2}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void aBodyWithQuotesBackslashesLineBreaksAndALeadingAtArrivesAsWritten(String from)
        throws Exception {
      StepResult r =
          call(
              from,
              "url: '"
                  + base
                  + "/echo?q=a%20b', method: POST,"
                  + " headers: {X-Token: 'a \"b\" \\c', Content-Type: text/plain},"
                  + " body: \"@/etc/passwd \\\"x\\\" \\\\ y\\n\\tz\\r\\nend\", status: 201");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      assertThat(r.data().get("body"))
          .isEqualTo("POST a \"b\" \\c text/plain @/etc/passwd \"x\" \\ y\n\tz\r\nend");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void unexpectedStatusFails(String from) throws Exception {
      StepResult r = call(from, "url: '" + base + "/down', body_contains: ok");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo("/down: status 503, expected 200; body does not contain \"ok\"");
      assertThat(r.data()).containsEntry("body", "maintenance");
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "controller"})
    void closedPortFailsWithStatusZero(String from) throws Exception {
      int closed;
      try (ServerSocket s = new ServerSocket(0)) {
        closed = s.getLocalPort();
      }
      StepResult r = call(from, "url: 'http://127.0.0.1:" + closed + "/', timeout_seconds: 5");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message()).startsWith("GET http://127.0.0.1:" + closed + "/: ");
      assertThat(r.data()).containsEntry("status", 0);
    }
  }
}
