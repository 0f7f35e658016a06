package io.runbook.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.step.StepRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The committed step reference (docs/steps.md) and README.md's step list are what the step registry
 * and schemas generate today. When they are not, the test fails, names the command that regenerates
 * them, and leaves the fresh copy in engine/target/generated-docs/ to diff against.
 */
class StepReferenceTest {
  static final Path ROOT = Path.of("..");
  static final Path FRESH = Path.of("target/generated-docs");

  @Test
  void committedStepReferenceIsCurrent() throws IOException {
    String fresh = StepReference.page();
    Path committed = ROOT.resolve("docs/steps.md");
    String text =
        Files.isRegularFile(committed) ? Files.readString(committed, StandardCharsets.UTF_8) : "";
    if (!text.equals(fresh)) {
      Files.createDirectories(FRESH);
      Files.writeString(FRESH.resolve("steps.md"), fresh, StandardCharsets.UTF_8);
      fail(
          "docs/steps.md is stale (the step schemas or the registry changed): run `"
              + StepReference.REGENERATE
              + "` at the top of the checkout and commit the result (a fresh copy is in engine/"
              + FRESH.resolve("steps.md")
              + ")");
    }
  }

  @Test
  void readmeStepListIsCurrent() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    if (!readme.contains(StepReference.readmeList())) {
      fail(
          "README.md's step list is stale: run `"
              + StepReference.REGENERATE
              + "` at the top of the checkout"
              + " and commit the result");
    }
  }

  /**
   * The list of steps comes from the registry: every registered key has its row, section and README
   * link.
   */
  @Test
  void everyRegisteredStepHasItsSectionAndLink() {
    String page = StepReference.page();
    String list = StepReference.readmeList();
    assertThat(StepRegistry.keys()).isNotEmpty();
    for (String key : StepRegistry.keys()) {
      assertThat(page)
          .contains(
              "\n## " + key + "\n", "| [`" + key + "`](#" + key + ") |", "```yaml\n" + key + ":");
      assertThat(list).contains("[`" + key + "`](docs/steps.md#" + key + ")");
    }
    assertThat(page.split("\n## ", -1)).hasSize(StepRegistry.keys().size() + 1);
  }

  /**
   * A schema's title-level text, each property's type, requiredness, default and description, and
   * examples.
   */
  @Test
  void sectionRendersWhatTheSchemaSays() throws IOException {
    JsonNode schema =
        new ObjectMapper()
            .readTree(
                """
        {"title": "probe step", "description": "Probes <a> thing. Twice.",
         "examples": ["fast", {"target": "db1", "tries": 3, "auth": {"user": "u"}}],
         "type": ["string", "object"], "required": ["target"],
         "properties": {
           "target": {"type": "string", "description": "What to probe | and how."},
           "tries": {"type": ["integer", "string"], "minimum": 1, "default": 2, "description": "Attempts."},
           "mode": {"enum": ["tcp", "http"], "description": "How."},
           "ports": {"type": "array", "items": {"type": "integer"}, "description": "Ports."},
           "auth": {"type": "object", "required": ["user"], "description": "Credentials.",
                    "properties": {"user": {"type": "string", "description": "Who."}}}}}
        """);
    String md = StepReference.section("probe", schema);
    assertThat(md)
        .startsWith(
            "## probe\n\nProbes &lt;a> thing. Twice.\n\nWritten as a string, or a mapping.\n\n")
        .contains("| `target` | string | yes | What to probe \\| and how. |\n")
        .contains("| `tries` | integer or string ≥ 1 |  | Attempts. Default: `2`. |\n")
        .contains("| `mode` | one of `tcp`, `http` |  | How. |\n")
        .contains("| `ports` | list of integer |  | Ports. |\n")
        .contains("| `auth` | mapping |  | Credentials. |\n| `auth.user` | string | yes | Who. |\n")
        .contains("```yaml\nprobe: fast\n```\n")
        .contains("```yaml\nprobe:\n  target: db1\n  tries: 3\n  auth:\n    user: u\n```\n");
    assertThat(StepReference.firstSentence("Probes a thing, e.g. a port. twice."))
        .isEqualTo("Probes a thing, e.g. a port.");
    assertThat(StepReference.firstSentence("One sentence.")).isEqualTo("One sentence.");
    assertThat(StepReference.prose("DEST/<run id>/*.tar.gz"))
        .isEqualTo("DEST/&lt;run id>/\\*.tar.gz");
  }
}
