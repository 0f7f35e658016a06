package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionStepTest {
  final VersionStep step = new VersionStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  StepResult run(String yaml) throws Exception {
    return step.execute(Bind.args(step, yaml), new FakeContext(host, dir));
  }

  @Test
  void anArgvCommandIsQuotedAndItsVersionComparedWithTheTarget() throws Exception {
    host.answer(ok("sampled 1.2.3\n"));
    StepResult r = run("{command: [python3, /opt/my app/sampled.py, --version], target: 2.0.0}");
    assertThat(host.last().command()).isEqualTo("python3 '/opt/my app/sampled.py' --version");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("installed 1.2.3, target 2.0.0: major upgrade");
    assertThat(r.data())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("installed", "1.2.3", "target", "2.0.0", "bump", "major", "upgrade", true));
    assertThat(r.registered()).containsEntry("bump", "major").containsEntry("upgrade", true);
  }

  @Test
  void aShellLineRunsAsWrittenAndStderrCountsWhenStdoutHasNoVersion() throws Exception {
    host.answer(ok(""), result(0, "", "openjdk version \"17.0.9\" 2023-10-17\n"));
    assertThat(run("{command: 'java -version 2>&1 | head -1', target: 17.0.9}").message())
        .isEqualTo(
            "cannot read the installed version: no version in the output of 'java -version 2>&1 | head -1': (nothing)");
    StepResult r = run("{command: java -version, target: 17.0.9}");
    assertThat(host.last().command()).isEqualTo("java -version");
    assertThat(r.data()).containsEntry("bump", "none").containsEntry("upgrade", false);
    assertThat(r.message()).isEqualTo("installed 17.0.9 is the target");
  }

  @Test
  void aDowngradeFailsUnlessAllowed() throws Exception {
    host.otherwise(req -> ok("app v2.1.0\n"));
    StepResult refused = run("{command: app --version, target: 2.0.0}");
    assertThat(refused.status()).isEqualTo(Status.FAILED);
    assertThat(refused.message())
        .isEqualTo(
            "installed 2.1.0 is newer than the target 2.0.0; this would be a downgrade (set allow_downgrade: true to allow it)");
    assertThat(refused.data()).containsEntry("bump", "downgrade").containsEntry("upgrade", false);
    StepResult allowed = run("{command: app --version, target: 2.0.0, allow_downgrade: true}");
    assertThat(allowed.status()).isEqualTo(Status.OK);
    assertThat(allowed.message()).isEqualTo("installed 2.1.0 is newer than the target 2.0.0");
  }

  @Test
  void noVersionFailsSayingWhy() throws Exception {
    host.answer(result(127, "", "sh: 1: sampled: not found\n"), ok("Usage: app [options]\nmore\n"));
    assertThat(run("{command: sampled --version, target: 2.0.0}").message())
        .isEqualTo(
            "cannot read the installed version: 'sampled --version' exited 127: sh: 1: sampled: not found");
    StepResult r = run("{command: app, target: 2.0.0}");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "cannot read the installed version: no version in the output of 'app': \"Usage: app [options]\"");
  }

  @Test
  void aUrlIsFetchedWithCurlOnTheHostAndTheFieldFollowsItsDotPath() throws Exception {
    host.answer(
        ok("{\"build\": {\"version\": \"2.0.0-rc.1\"}}\n200"),
        ok("{\"status\": \"ok\"}\n200"),
        ok("down\n503"),
        ok("1.4.2\n200"));
    StepResult r =
        run("{url: 'http://127.0.0.1:8080/_health', json_field: build.version, target: 2.0.0}");
    assertThat(host.last().command()).startsWith("curl -sS -K -");
    assertThat(new String(host.last().stdin(), StandardCharsets.UTF_8))
        .isEqualTo("url = \"http://127.0.0.1:8080/_health\"\n");
    assertThat(r.data()).containsEntry("installed", "2.0.0-rc.1").containsEntry("bump", "patch");
    assertThat(run("{url: 'http://127.0.0.1:8080/_health', target: 2.0.0}").message())
        .isEqualTo(
            "cannot read the installed version: no field 'version' in the JSON from http://127.0.0.1:8080/_health");
    assertThat(run("{url: 'http://127.0.0.1:8080/_health', target: 2.0.0}").message())
        .isEqualTo("cannot read the installed version: GET http://127.0.0.1:8080/_health → 503");
    assertThat(run("{url: 'http://127.0.0.1:8080/version', target: 2.0.0}").data())
        .containsEntry("bump", "major");
  }

  @Test
  void validationNamesEachProblem() {
    assertThat(step.validate(Bind.args(step, "{target: 2.0.0}")))
        .containsExactly(
            "give exactly one of 'command' (run on the host) or 'url' (an HTTP endpoint)");
    assertThat(step.validate(Bind.args(step, "{command: [], target: 2.0.0}"))).hasSize(1);
    assertThat(step.validate(Bind.args(step, "{command: x, url: 'http://h/v', target: 2.0.0}")))
        .hasSize(1);
    assertThat(step.validate(Bind.args(step, "{command: x, from: controller, target: '2.0'}")))
        .containsExactly(
            "'json_field' and 'from' go with 'url'",
            "target '2.0' is not a version like 2.0.0 (major.minor.patch, optional -prerelease)");
    assertThat(step.validate(Bind.args(step, "{url: 'ftp://h/v', from: laptop, target: 2.0.0}")))
        .containsExactly(
            "url 'ftp://h/v' is not an http(s) URL",
            "from must be 'host' or 'controller', not 'laptop'");
    assertThat(step.validate(Bind.args(step, "{command: [app, 1], target: v2.0.0-rc.1}")))
        .isEmpty();
  }

  @Nested
  class ForReal {
    HttpServer server;
    String base;
    FakeContext ctx;

    @BeforeEach
    void setUp() throws Exception {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext(
          "/_health",
          ex -> {
            byte[] body =
                "{\"status\":\"ok\",\"version\":\"1.2.3\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
          });
      server.start();
      base = "http://127.0.0.1:" + server.getAddress().getPort();
      ctx = new FakeContext(new LocalTransport("local"), dir);
    }

    @AfterEach
    void tearDown() {
      server.stop(0);
    }

    @Test
    void fromTheControllerAndFromTheHost() throws Exception {
      for (String from : new String[] {"controller", "host"}) {
        StepResult r =
            step.execute(
                Bind.args(step, "{url: '" + base + "/_health', from: " + from + ", target: 1.3.0}"),
                ctx);
        assertThat(r.status()).as(from + ": " + r.message()).isEqualTo(Status.OK);
        assertThat(r.data()).containsEntry("installed", "1.2.3").containsEntry("bump", "minor");
      }
    }

    @Test
    void aCommandOnTheHost() throws Exception {
      StepResult r =
          step.execute(
              Bind.args(
                  step,
                  "{command: [sh, -c, 'echo \"sampled v1.2.3-rc.2 (build 7)\"'], target: 1.2.3}"),
              ctx);
      assertThat(r.status()).as(r.message()).isEqualTo(Status.OK);
      assertThat(r.data())
          .containsEntry("installed", "1.2.3-rc.2")
          .containsEntry("bump", "patch")
          .containsEntry("upgrade", true);
    }
  }
}
