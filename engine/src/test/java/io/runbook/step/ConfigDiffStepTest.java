package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDiffStepTest {
  static final Path SAMPLES = Path.of("../samples/releases");

  final ConfigDiffStep step = new ConfigDiffStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  FakeContext sampleHost() {
    return new FakeContext(new LocalTransport("local"), SAMPLES.toAbsolutePath())
        .with("port", 18080)
        .with("app_dir", dir.toString())
        .with("session_secret", "old-session-secret-0123")
        .with("sudo_mode_secret", "sudo-secret-0123456789")
        .with("connection_initiation_secret", "conn-secret-0123456789");
  }

  StepResult run(String yaml, FakeContext ctx) {
    ConfigDiffStep.Args args = Bind.args(step, yaml);
    assertThat(step.validate(args)).isEmpty();
    return step.execute(args, ctx);
  }

  /** The seed's 2.0.0 upgrade: a 1.2.3 config compared with the 2.0.0 template. */
  @Test
  void aOneTwoThreeConfigAgainstTheTwoZeroTemplateListsWhatToAddAndRemove() throws Exception {
    FakeContext ctx = sampleHost();
    Path live = dir.resolve("config.json");
    Files.writeString(
        live, ctx.render(Files.readString(SAMPLES.resolve("1.2.3/config.template.json")), "old"));

    StepResult r = run("{path: '" + live + "', template: 2.0.0/config.template.json}", ctx);

    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.data())
        .containsEntry(
            "missing",
            List.of(
                "$.services.queue.storage_backend",
                "$.services.queue.filesystem",
                "$.auth.sudo_mode_secret",
                "$.auth.connection_initiation_secret",
                "$.telemetry"))
        .containsEntry("extra", List.of("$.services.queue.data_dir", "$.auth.session_secret"))
        .containsEntry("changed", List.of());
    assertThat(r.message())
        .isEqualTo(
            "5 missing: $.services.queue.storage_backend, $.services.queue.filesystem,"
                + " $.auth.sudo_mode_secret, $.auth.connection_initiation_secret, $.telemetry;"
                + " 2 extra: $.services.queue.data_dir, $.auth.session_secret");

    StepResult strict =
        run(
            "{path: '" + live + "', template: 2.0.0/config.template.json, fail_on: [missing]}",
            ctx);
    assertThat(strict.status()).isEqualTo(Status.FAILED);
    assertThat(strict.message()).isEqualTo(r.message() + " (fail_on: missing)");
    assertThat(
            run(
                    "{path: '"
                        + live
                        + "', template: 1.2.3/config.template.json, fail_on: [missing, extra, changed]}",
                    ctx)
                .message())
        .isEqualTo("same keys and values as 1.2.3/config.template.json");
  }

  @Test
  void valuesAreComparedWhenAskedAndSecretsMasked() {
    Path base = dir;
    host.answer(
        ok(
            """
        server: {host: 0.0.0.0, port: 8080.0}
        auth: {session_secret: hunter2-but-longer}
        users: [{name: a, password: x}]
        tags: [a, b]
        """));
    write(
        base,
        "expected.json",
        """
        {"server": {"host": "127.0.0.1", "port": 8080}, "auth": {"session_secret": "something-else"},
         "users": [{"name": "a", "password": "y"}], "tags": ["a", "b"]}
        """);
    StepResult r =
        run(
            "{path: /etc/app/config.yaml, against: expected.json, compare_values: true}",
            new FakeContext(host, base));
    assertThat(host.commands()).containsExactly("cat /etc/app/config.yaml");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.data())
        .containsEntry(
            "changed",
            List.of(
                Map.of("path", "$.server.host", "host", "0.0.0.0", "template", "127.0.0.1"),
                Map.of(
                    "path",
                    "$.auth.session_secret",
                    "host",
                    ConfigDiff.MASK,
                    "template",
                    ConfigDiff.MASK),
                Map.of("path", "$.users", "host", ConfigDiff.MASK, "template", ConfigDiff.MASK)));
    assertThat(r.message())
        .isEqualTo("3 changed: $.server.host, $.auth.session_secret, $.users")
        .doesNotContain("hunter2");
  }

  @Test
  void anObjectWhereAValueWasExpectedAndOddKeysAreNamedByPath() {
    host.answer(ok("{\"queue\": \"fs\", \"log level\": 1, \"db\": {\"path\": \"x\"}}"));
    write(dir, "expected.json", "{\"queue\": {\"backend\": \"fs\"}, \"db\": \"x\"}");
    StepResult r =
        run("{path: /etc/app/config.json, against: expected.json}", new FakeContext(host, dir));
    assertThat(r.data())
        .containsEntry("missing", List.of("$.queue.backend"))
        .containsEntry("extra", List.of("$.db.path", "$['log level']"));
  }

  @Test
  void templateErrorsAndUnreadableConfigsFail() {
    write(dir, "t.json", "{\"port\": [=nope]}");
    StepResult r =
        run("{path: /etc/app/config.json, template: t.json}", new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith("t.json: ");
    assertThat(host.requests).isEmpty();

    write(dir, "t.json", "{\"port\": 1}");
    host.answer(ok("{\"port\": 1,,}"));
    assertThat(
            run("{path: /etc/app/config.json, template: t.json}", new FakeContext(host, dir))
                .message())
        .startsWith("/etc/app/config.json: not valid JSON at line 1, column ");
  }

  @Test
  void validateWantsExactlyOneSourceAndKnownKinds() {
    assertThat(step.validate(Bind.args(step, "{path: /x}")))
        .containsExactly(
            "give 'template' (a FreeMarker file rendered first) or 'against' (a file compared as it is)");
    assertThat(
            step.validate(
                Bind.args(
                    step, "{path: /x, template: a.json, against: b.json, fail_on: [missnig]}")))
        .containsExactly(
            "give either 'template' (rendered first) or 'against' (compared as it is), not both",
            "fail_on: unknown kind 'missnig'; use missing, extra or changed");
    assertThat(Bind.args(step, "{path: /x, against: b.json, fail_on: [changed]}").compareValues())
        .isTrue();
  }

  static void write(Path dir, String name, String text) {
    try {
      Files.writeString(dir.resolve(name), text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
