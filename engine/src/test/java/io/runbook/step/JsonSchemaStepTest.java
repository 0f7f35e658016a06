package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonSchemaStepTest {
  final JsonSchemaStep step = new JsonSchemaStep();
  @TempDir Path dir;

  static final String SCHEMA =
      """
      {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["name", "server"],
        "properties": {
          "name": {"type": "string"},
          "server": {
            "type": "object",
            "properties": {"port": {"type": "integer", "maximum": 65535}, "tls": {"type": "boolean"}},
            "additionalProperties": false
          }
        }
      }
      """;

  @BeforeEach
  void writeSchema() throws Exception {
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/config-v2.json"), SCHEMA);
  }

  StepResult check(String path, FakeContext ctx) {
    return step.execute(
        Bind.args(step, "{path: '" + path + "', schema: schemas/config-v2.json}"), ctx);
  }

  @Test
  void readsTheHostFileAndListsEveryViolation() {
    RecordingTransport host =
        new RecordingTransport().answer(ok("{\"server\": {\"port\": \"8080\", \"tsl\": true}}"));
    StepResult r = check("/etc/app/config.json", new FakeContext(host, dir));
    assertThat(host.commands()).containsExactly("cat /etc/app/config.json");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    @SuppressWarnings("unchecked")
    List<String> v = (List<String>) r.data().get("violations");
    assertThat(v).hasSize(3);
    assertThat(String.join("\n", v)).contains("$: ", "name", "$.server.port: ", "integer", "tsl");
    assertThat(r.message())
        .startsWith("/etc/app/config.json: 3 violations of schemas/config-v2.json: $");
    assertThat(r.stdout()).isEqualTo(String.join("\n", v) + "\n");
  }

  @Test
  void unreadableFileFails() {
    RecordingTransport host =
        new RecordingTransport()
            .answer(
                result(1, "", "cat: /etc/app/config.json: No such file or directory\n"), ok(""));
    StepResult r = check("/etc/app/config.json", new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "cannot read /etc/app/config.json: cat: /etc/app/config.json: No such file or directory");
  }

  @Test
  void onARealFileEveryViolationIsListedByPath() throws Exception {
    FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
    Path config = dir.resolve("config.json");
    Files.writeString(config, "{\"name\": 7, \"server\": {\"port\": 70000, \"tls\": \"yes\"}}");

    StepResult r = check(config.toString(), ctx);

    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.data()).containsEntry("valid", false);
    @SuppressWarnings("unchecked")
    List<String> v = (List<String>) r.data().get("violations");
    assertThat(v).hasSize(3);
    assertThat(v).anySatisfy(s -> assertThat(s).startsWith("$.name: ").contains("string"));
    assertThat(v).anySatisfy(s -> assertThat(s).startsWith("$.server.port: ").contains("65535"));
    assertThat(v).anySatisfy(s -> assertThat(s).startsWith("$.server.tls: ").contains("boolean"));
    assertThat(r.message())
        .contains("3 violations", "$.name: ", "$.server.port: ", "$.server.tls: ");

    Files.writeString(config, "{\"name\": \"app\", \"server\": {\"port\": 8080, \"tls\": true}}");
    StepResult fixed = check(config.toString(), ctx);
    assertThat(fixed.status()).isEqualTo(Status.OK);
    assertThat(fixed.data()).containsEntry("valid", true).containsEntry("violations", List.of());
  }

  @Test
  void malformedJsonFailsWithItsPosition() throws Exception {
    FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
    Path config = dir.resolve("config.json");
    Files.writeString(config, "{\n  \"name\": \"app\",\n  \"server\": {\"port\": 80,}\n}\n");
    StepResult r = check(config.toString(), ctx);
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith(config + ": not valid JSON at line 3, column ");
  }

  @Test
  void missingFileOnARealHostIsAStepFailure() {
    StepResult r =
        check(
            dir.resolve("nope.json").toString(), new FakeContext(new LocalTransport("local"), dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .startsWith("cannot read " + dir.resolve("nope.json"))
        .contains("No such file");
  }

  @Test
  void brokenSchemaFileFails() throws Exception {
    Files.writeString(dir.resolve("schemas/config-v2.json"), "{\"type\": ");
    RecordingTransport host = new RecordingTransport();
    StepResult r = check("/etc/app/config.json", new FakeContext(host, dir));
    assertThat(r.message()).startsWith("schemas/config-v2.json: not valid JSON at line 1");
    assertThat(host.requests).isEmpty();
  }

  @Test
  void yamlConfigsAreCheckedAndReportedTheSameWay() throws Exception {
    FakeContext ctx = new FakeContext(new LocalTransport("local"), dir);
    Path config = dir.resolve("config.yaml");
    Files.writeString(config, "# the app's config\nname: 7\nserver:\n  port: 70000\n  tls: yes\n");

    StepResult r = check(config.toString(), ctx);

    assertThat(r.status()).isEqualTo(Status.FAILED);
    @SuppressWarnings("unchecked")
    List<String> v = (List<String>) r.data().get("violations");
    // YAML 1.2: "yes" is a string, not a boolean
    assertThat(v)
        .hasSize(3)
        .anySatisfy(s -> assertThat(s).startsWith("$.server.tls: ").contains("boolean"));
    assertThat(r.message()).startsWith(config + ": 3 violations of schemas/config-v2.json: $.");

    Files.writeString(config, "name: app\nserver: {port: 8080, tls: true}\n");
    assertThat(check(config.toString(), ctx).message())
        .isEqualTo(config + " matches schemas/config-v2.json");
  }

  @Test
  void yamlIsRecognisedByContentWhenTheNameSaysNothing() {
    RecordingTransport host =
        new RecordingTransport().answer(ok("name: app\nserver:\n  port: 8080\n"));
    StepResult r = check("/etc/app/config", new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("/etc/app/config matches schemas/config-v2.json");
  }

  @Test
  void malformedYamlFailsWithItsPosition() {
    RecordingTransport host =
        new RecordingTransport().answer(ok("name: app\nserver:\n  port: [8080\n"));
    StepResult r = check("/etc/app/config.yml", new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith("/etc/app/config.yml: not valid YAML at line 4, column 1: ");

    host.answer(ok("name: a\nname: b\n"));
    assertThat(check("/etc/app/config.yaml", new FakeContext(host, dir)).message())
        .startsWith("/etc/app/config.yaml: not valid YAML at line 2, column 1: ")
        .contains("name");
  }

  @Test
  void anEmptyFileIsNamedAsSuch() {
    RecordingTransport host = new RecordingTransport().answer(ok("# nothing yet\n"));
    assertThat(check("/etc/app/config.yaml", new FakeContext(host, dir)).message())
        .isEqualTo("/etc/app/config.yaml is empty");
    host.answer(ok("  \n"));
    assertThat(check("/etc/app/config.json", new FakeContext(host, dir)).message())
        .isEqualTo("/etc/app/config.json is empty");
    host.answer(ok("null"));
    assertThat(check("/etc/app/config.json", new FakeContext(host, dir)).message())
        .startsWith("/etc/app/config.json: 1 violation of schemas/config-v2.json: $: ");
  }
}
