package io.runbook.step;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code json_schema:} checks a JSON or YAML config file on the host against a JSON Schema (draft
 * 2020-12) kept next to the runbook, typically the new release's schema before an upgrade. Lists
 * every violation by its JSON path, so one run shows everything to fix. Which files are YAML:
 * {@link ConfigFiles}.
 */
public final class JsonSchemaStep extends StepType<JsonSchemaStep.Args> {
  private static final SchemaRegistry SCHEMAS =
      SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param path the JSON or YAML file on the host
   * @param schema the schema file on the controller, relative to the runbook's directory
   */
  public record Args(String path, String schema) {}

  public JsonSchemaStep() {
    super("json_schema", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    return LocalSource.check("schema", args.schema());
  }

  @Override
  public List<String> checkFiles(Args args, Path baseDir, Map<String, ?> model) {
    if (args.schema() == null) return List.of();
    Object schema = schema(LocalSource.load(baseDir, "schema", args.schema()), args.schema());
    return schema instanceof StepResult failed ? List.of(failed.message()) : List.of();
  }

  /** The draft 2020-12 meta-schema (bundled with networknt), loaded on first use only. */
  private static final class Meta {
    static final Schema SCHEMA =
        SCHEMAS.getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
  }

  /** The compiled schema, or the failed result saying why there is none. */
  private static Object schema(LocalSource.Loaded schemaFile, String name) {
    if (schemaFile.failure() != null) return schemaFile.failure();
    ConfigFiles.Parsed schemaDoc = ConfigFiles.parse(name, schemaFile.bytes());
    if (schemaDoc.failed()) return StepResult.failed(name + ": " + schemaDoc.error());
    if (schemaDoc.empty()) return StepResult.failed(name + " is empty");
    try {
      JsonNode tree = ConfigFiles.tree(schemaDoc.value());
      // networknt compiles what it understands and ignores the rest: {"type": 5} would check
      // nothing.
      List<Error> wrong = Meta.SCHEMA.validate(tree);
      if (!wrong.isEmpty()) {
        return StepResult.failed(
            name
                + " is not a valid JSON Schema (draft 2020-12): "
                + String.join("; ", wrong.stream().map(Error::toString).toList()));
      }
      return SCHEMAS.getSchema(tree);
    } catch (SchemaException e) {
      return StepResult.failed(name + " is not a usable JSON Schema: " + e.getMessage());
    }
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    Object compiled = schema(LocalSource.load(ctx, "schema", args.schema()), args.schema());
    if (compiled instanceof StepResult failed) return failed;
    Schema schema = (Schema) compiled;
    RemoteFile.Read file = RemoteFile.read(ctx, args.path());
    if (file.failure() != null) return file.failure();
    ConfigFiles.Parsed config = ConfigFiles.parse(args.path(), file.bytes());
    if (config.failed()) return StepResult.failed(args.path() + ": " + config.error());
    if (config.empty()) return StepResult.failed(args.path() + " is empty");
    JsonNode instance = ConfigFiles.tree(config.value());

    List<String> violations =
        schema.validate(instance).stream().map(JsonSchemaStep::describe).toList();
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("path", args.path());
    data.put("valid", violations.isEmpty());
    data.put("violations", violations);
    if (violations.isEmpty())
      return StepResult.ok(args.path() + " matches " + args.schema()).withData(data);
    String message =
        args.path()
            + ": "
            + violations.size()
            + " violation"
            + (violations.size() == 1 ? "" : "s")
            + " of "
            + args.schema()
            + ": "
            + String.join("; ", violations);
    return new StepResult(
        Status.FAILED, null, String.join("\n", violations) + "\n", null, message, data, 0, 1);
  }

  /**
   * {@code $.server.port: string found, integer expected}: a JSONPath, which people read more
   * easily than a pointer.
   */
  private static String describe(Error e) {
    StringBuilder where = new StringBuilder("$");
    NodePath path = e.getInstanceLocation();
    for (int i = 0; path != null && i < path.getNameCount(); i++) {
      ConfigFiles.appendPath(where, path.getElement(i));
    }
    String m = e.getMessage() == null ? String.valueOf(e) : e.getMessage();
    String pointer = path == null ? "" : path.toString();
    if (m.startsWith(pointer + ": ")) m = m.substring(pointer.length() + 2);
    return where + ": " + m;
  }
}
