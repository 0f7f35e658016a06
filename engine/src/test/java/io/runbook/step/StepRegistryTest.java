package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class StepRegistryTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SCHEMAS = "/io/runbook/schema/steps";

  /**
   * The table and the schema folder name the same step types: a step type without its schema, or a
   * schema left behind by a removed step type, fails here. Derived, so adding a step type edits no
   * test.
   */
  @Test
  void everyStepTypeHasItsSchemaAndEverySchemaItsStepType() throws Exception {
    Set<String> schemas;
    try (Stream<Path> files = Files.list(Path.of(Step.class.getResource(SCHEMAS).toURI()))) {
      schemas =
          files
              .map(f -> f.getFileName().toString())
              .filter(n -> n.endsWith(".json"))
              .map(n -> n.substring(0, n.length() - ".json".length()))
              .collect(Collectors.toCollection(TreeSet::new));
    }
    assertThat(new TreeSet<>(StepRegistry.keys())).isEqualTo(schemas).isNotEmpty();
    for (Step<?> step : StepRegistry.all()) {
      assertThat(StepRegistry.find(step.key())).as(step.key()).containsSame(step);
      assertThat(step.schemaResource()).isEqualTo(SCHEMAS + "/" + step.key() + ".json");
    }
    assertThat(StepRegistry.find("copy")).get().isInstanceOf(CopyStep.class);
    assertThat(StepRegistry.find("cpoy")).isEmpty();
  }

  /**
   * Every schema compiles, describes its keys, and each of its examples is valid, binds and
   * validates.
   */
  @Test
  void schemasAreCompleteAndTheirExamplesBind() throws Exception {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    for (Step<?> step : StepRegistry.all()) {
      JsonNode json;
      try (InputStream in = Step.class.getResourceAsStream(step.schemaResource())) {
        assertThat(in).as(step.schemaResource()).isNotNull();
        json = JSON.readTree(in);
      }
      assertThat(json.path("additionalProperties").asBoolean(true)).as(step.key()).isFalse();
      assertThat(json.path("description").asText()).as(step.key()).isNotBlank();
      for (Iterator<Map.Entry<String, JsonNode>> it = json.path("properties").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        assertThat(p.getValue().path("description").asText())
            .as(step.key() + "." + p.getKey())
            .isNotBlank();
      }
      Schema schema = registry.getSchema(json);
      assertThat(json.path("examples").size()).as(step.key() + " examples").isPositive();
      for (JsonNode example : json.path("examples")) {
        assertThat(schema.validate(example)).as(step.key() + " example " + example).isEmpty();
        Object args = step.bind(JSON.convertValue(example, Object.class));
        assertThat(validate(step, args)).as(step.key() + " example " + example).isEmpty();
      }
    }
  }

  @Test
  void schemasRejectUnknownKeysAndWrongTypes() {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    List<String> errors = new ArrayList<>();
    for (String bad :
        List.of(
            "{\"shell\": {\"cmd\": \"x\", \"chdri\": \"/\"}}",
            "{\"wait_for\": {\"port\": \"eighty\"}}",
            "{\"http\": {\"url\": \"http://x\", \"from\": \"laptop\"}}",
            "{\"copy\": {\"content\": \"x\"}}",
            "{\"shell\": {\"cmd\": \"x\", \"env\": {\"BAD-NAME\": \"1\"}}}",
            "{\"pause\": \"30 sec\"}",
            "{\"pause\": {\"seconds\": 30, \"resaon\": \"soak\"}}",
            "{\"pause\": -1}",
            "{\"migrate\": {\"engine\": \"mysql\", \"db\": \"a.db\", \"dir\": \"m\"}}",
            "{\"migrate\": {\"engine\": \"sqlite\", \"db\": \"a.db\", \"dir\": \"m\", \"table\": \"x; DROP TABLE y\"}}",
            "{\"migrate\": {\"engine\": \"sqlite\", \"db\": \"a.db\", \"dir\": \"m\", \"mark_aplied\": [\"x\"]}}",
            "{\"config_diff\": {\"path\": \"/x\", \"template\": \"t.json\", \"fail_on\": [\"missnig\"]}}")) {
      Map.Entry<String, JsonNode> e = readTree(bad).fields().next();
      Step<?> step = StepRegistry.find(e.getKey()).orElseThrow();
      var schema = registry.getSchema(readTree(resource(step.schemaResource())));
      errors.add(e.getKey() + ": " + schema.validate(e.getValue()).size());
    }
    assertThat(errors).noneMatch(s -> s.endsWith(": 0"));
  }

  @Test
  void templatedNumbersPassTheSchemaBeforeRendering() {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    var schema = registry.getSchema(readTree(resource("/io/runbook/schema/steps/wait_for.json")));
    assertThat(
            schema.validate(
                readTree("{\"port\": \"[=app_port]\", \"timeout_seconds\": \"[=wait]\"}")))
        .isEmpty();
  }

  @SuppressWarnings("unchecked")
  static <A> List<String> validate(Step<A> step, Object args) {
    return step.validate((A) args);
  }

  static JsonNode readTree(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static String resource(String path) {
    try (InputStream in = Step.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
