package io.runbook.step;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Config files that steps read and compare ({@code json_schema}, {@code config_diff}), JSON or
 * YAML, parsed to plain Java values: maps, lists, strings, numbers, booleans, null.
 *
 * <p>A {@code .yaml}/{@code .yml} name is YAML and a {@code .json} name JSON. Any other name is
 * JSON when it parses as JSON, else YAML, so a file without an extension works either way. YAML is
 * read as YAML 1.2 (the core schema: {@code on} and {@code 2024-01-01} stay strings) and duplicate
 * keys are errors.
 */
final class ConfigFiles {
  static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private ConfigFiles() {}

  /**
   * The parsed value; {@code empty} when the file holds no document at all; {@code error} says why
   * it cannot be read, as a sentence without the file name.
   */
  record Parsed(Object value, boolean empty, String error) {
    boolean failed() {
      return error != null;
    }
  }

  static Parsed parse(String name, byte[] bytes) {
    if (new String(bytes, StandardCharsets.UTF_8).isBlank()) return new Parsed(null, true, null);
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return yaml(name, bytes);
    Parsed json = json(bytes);
    if (!json.failed() || lower.endsWith(".json")) return json;
    Parsed yaml = yaml(name, bytes);
    return yaml.failed() ? json : yaml;
  }

  private static Parsed json(byte[] bytes) {
    try {
      return new Parsed(JSON.readValue(bytes, Object.class), false, null);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String pos = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      return new Parsed(
          null,
          false,
          "not valid JSON" + pos + ": " + e.getOriginalMessage().lines().findFirst().orElse(""));
    } catch (IOException e) {
      return new Parsed(null, false, "cannot read: " + e.getMessage());
    }
  }

  private static Parsed yaml(String name, byte[] bytes) {
    LoadSettings settings =
        LoadSettings.builder().setLabel(name).setAllowDuplicateKeys(false).build();
    try {
      // A stream of comments only has no document: empty, like a blank file.
      Object value = new Load(settings).loadFromString(new String(bytes, StandardCharsets.UTF_8));
      return new Parsed(value, value == null, null);
    } catch (MarkedYamlEngineException e) {
      String pos =
          e.getProblemMark()
              .map(m -> " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1))
              .orElse("");
      return new Parsed(null, false, "not valid YAML" + pos + ": " + e.getProblem());
    } catch (YamlEngineException e) {
      return new Parsed(null, false, "not valid YAML: " + e.getMessage());
    }
  }

  /** The value as a Jackson tree; a JSON {@code null} document is a null node, not Java's null. */
  static JsonNode tree(Object value) {
    return value == null ? NullNode.getInstance() : JSON.valueToTree(value);
  }

  /** Appends one step to a JSONPath: {@code .name}, {@code [3]} or {@code ['odd key']}. */
  static StringBuilder appendPath(StringBuilder path, Object element) {
    if (element instanceof Integer index) return path.append('[').append(index).append(']');
    String name = String.valueOf(element);
    if (name.matches("[A-Za-z_][A-Za-z0-9_]*")) return path.append('.').append(name);
    return path.append("['").append(name.replace("'", "\\'")).append("']");
  }
}
