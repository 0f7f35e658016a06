package io.runbook.step;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The two ways {@code http} sends its request: curl on the host, or Java's HttpClient on the
 * controller.
 */
final class HttpFetch {
  /** Bodies up to this size are parsed whole; curl keeps the tail of longer ones. */
  private static final int MAX_BODY = 8 << 20;

  // Shared clients: each HttpClient owns a selector thread, and a polled check sends many requests.
  private static final HttpClient VERIFYING = HttpClient.newHttpClient();

  private HttpFetch() {}

  private static final class Insecure {
    static final HttpClient CLIENT = HttpClient.newBuilder().sslContext(trustAll()).build();
  }

  /**
   * Runs curl on the host. {@code -w} appends a newline and the status code after the body, so the
   * last line is the status and everything before that newline is the body, whatever the body
   * contains.
   *
   * <p>The URL, the headers and the body (which may carry tokens and passwords) go to curl as a
   * config on its stdin ({@code -K -}), never in its argv, which every user of the host can read in
   * {@code ps}.
   */
  static HttpStep.Response fromHost(HttpStep.Args a, StepContext ctx) {
    StringBuilder cmd =
        new StringBuilder("curl -sS -K - -w '\\n%{http_code}' --max-time ")
            .append(a.timeoutSeconds());
    // -X HEAD would make curl wait for a body that never comes; --head asks properly.
    cmd.append(
        a.method().equals("HEAD") ? " --head -o /dev/null" : " -o - -X " + Shell.quote(a.method()));
    if (!a.validateCerts()) cmd.append(" -k");
    StringBuilder config = new StringBuilder();
    config.append("url = ").append(configString(a.url())).append('\n');
    a.headers()
        .forEach(
            (k, v) -> config.append("header = ").append(configString(k + ": " + v)).append('\n'));
    byte[] body = bodyBytes(a);
    if (body != null) {
      if (!(a.body() instanceof String) && !hasHeader(a.headers(), "Content-Type")) {
        config.append("header = \"Content-Type: application/json\"\n");
      }
      String text = new String(body, StandardCharsets.UTF_8);
      if (text.indexOf('\0') >= 0) {
        return new HttpStep.Response(
            0,
            "",
            "a body with NUL characters cannot be sent with curl from the host; "
                + "use from: controller");
      }
      // data-raw, not data-binary: its value is the body itself, never "@file"
      config.append("data-raw = ").append(configString(text)).append('\n');
    }
    ExecResult r =
        ctx.transport()
            .exec(
                ExecRequest.builder(cmd.toString())
                    .stdin(config.toString().getBytes(StandardCharsets.UTF_8))
                    .timeout(ctx.timeout())
                    .become(ctx.become())
                    .maxOutput(MAX_BODY)
                    .build());
    String out = r.stdoutText();
    int nl = out.lastIndexOf('\n');
    int status = parseStatus(out.substring(nl + 1).strip());
    String text = nl < 0 ? "" : out.substring(0, nl);
    if (r.timedOut()) return new HttpStep.Response(0, text, "no answer within the step's time-out");
    if (r.exitCode() == 127) {
      return new HttpStep.Response(
          0, "", "curl is not installed on the host; install it or use from: controller");
    }
    if (r.exitCode() != 0) {
      String lastLine = r.stderrText().strip().lines().reduce((x, y) -> y).orElse("");
      return new HttpStep.Response(
          status, text, lastLine.isEmpty() ? "curl exit code " + r.exitCode() : lastLine);
    }
    return new HttpStep.Response(status, text, null);
  }

  static HttpStep.Response fromController(HttpStep.Args a) throws InterruptedException {
    Duration timeout = Duration.ofSeconds(a.timeoutSeconds());
    try {
      HttpClient client = a.validateCerts() ? VERIFYING : Insecure.CLIENT;
      byte[] body = bodyBytes(a);
      HttpRequest.Builder req =
          HttpRequest.newBuilder(URI.create(a.url()))
              .timeout(timeout)
              .method(
                  a.method(),
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(body));
      a.headers().forEach(req::header);
      if (body != null
          && !(a.body() instanceof String)
          && !hasHeader(a.headers(), "Content-Type")) {
        req.header("Content-Type", "application/json");
      }
      HttpResponse<byte[]> resp = client.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new HttpStep.Response(
          resp.statusCode(), new String(resp.body(), StandardCharsets.UTF_8), null);
    } catch (HttpTimeoutException e) {
      return new HttpStep.Response(0, "", "no answer within " + a.timeoutSeconds() + " s");
    } catch (IOException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return new HttpStep.Response(0, "", "request failed: " + why);
    } catch (IllegalArgumentException e) {
      // HttpClient refuses restricted headers (Host, Connection, ...) and malformed URLs this way.
      return new HttpStep.Response(0, "", e.getMessage());
    }
  }

  private static byte[] bodyBytes(HttpStep.Args a) {
    if (a.body() == null) return null;
    if (a.body() instanceof String s) return s.getBytes(StandardCharsets.UTF_8);
    try {
      return HttpStep.MAPPER.writeValueAsBytes(a.body());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a body bound from YAML is always serialisable", e);
    }
  }

  /**
   * A double-quoted curl config value: backslash escapes for the quote, backslash and line breaks.
   */
  static String configString(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\u000b' -> sb.append("\\v");
        default -> sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  private static boolean hasHeader(Map<String, String> headers, String name) {
    return headers.keySet().stream().anyMatch(name::equalsIgnoreCase);
  }

  private static int parseStatus(String s) {
    return s.matches("\\d{3}") ? Integer.parseInt(s) : 0;
  }

  /**
   * validate_certs: false, for hosts with self-signed certificates. Also skips the host name check.
   */
  private static SSLContext trustAll() {
    TrustManager none =
        new X509ExtendedTrustManager() {
          @Override
          public void checkClientTrusted(X509Certificate[] c, String t) {}

          @Override
          public void checkServerTrusted(X509Certificate[] c, String t) {}

          @Override
          public void checkClientTrusted(X509Certificate[] c, String t, Socket s) {}

          @Override
          public void checkServerTrusted(X509Certificate[] c, String t, Socket s) {}

          @Override
          public void checkClientTrusted(X509Certificate[] c, String t, SSLEngine e) {}

          @Override
          public void checkServerTrusted(X509Certificate[] c, String t, SSLEngine e) {}

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
          }
        };
    try {
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, new TrustManager[] {none}, null);
      return ssl;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is always available", e);
    }
  }
}
