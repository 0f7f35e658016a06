package io.runbook.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.journal.EventJson;
import io.runbook.model.RunbookParser;
import io.runbook.step.Step;
import io.runbook.step.StepRegistry;
import io.runbook.yaml.JsonSchemas;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "schema",
    mixinStandardHelpOptions = true,
    description =
        "Print the JSON Schema of runbooks (with every step type), of inventories, or of one step type's arguments.")
final class SchemaCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      defaultValue = "runbook",
      paramLabel = "WHAT",
      description = "runbook (default), inventory, or a step type such as shell.")
  String what;

  @Override
  public Integer call() throws Exception {
    Object schema =
        switch (what) {
          case "runbook" -> runbookSchema();
          case "inventory" -> JsonSchemas.json("/io/runbook/schema/inventory.json");
          default ->
              JsonSchemas.json(
                  StepRegistry.find(what)
                      .orElseThrow(
                          () ->
                              new RunbookException(
                                  ErrorCode.INVALID_INPUT,
                                  "no schema named '"
                                      + what
                                      + "': use runbook, inventory, or one of "
                                      + String.join(", ", new TreeSet<>(StepRegistry.keys()))))
                      .schemaResource());
        };
    spec.commandLine()
        .getOut()
        .println(EventJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(schema));
    return 0;
  }

  /** The runbook schema with $defs.step spelled out: the common keys plus exactly one step type. */
  static ObjectNode runbookSchema() {
    ObjectNode root = JsonSchemas.json(RunbookParser.SCHEMA).deepCopy();
    ObjectNode step = (ObjectNode) root.get("$defs").get("step");
    step.put("additionalProperties", false);
    step.putArray("required").add("name");
    ObjectNode props = step.putObject("properties");
    props
        .putObject("name")
        .put("type", "string")
        .put("description", "What the step does, for plans, recaps and the journal.");
    props
        .putObject("when")
        .put("description", "FreeMarker expression; the step is skipped when false.");
    props
        .putObject("register")
        .put("type", "string")
        .put("description", "Store the result under this variable name.");
    props
        .putObject("retries")
        .put("type", "integer")
        .put("minimum", 0)
        .put("description", "Extra attempts while the step fails or 'until' is false.");
    props.putObject("delay").put("$ref", "#/$defs/duration");
    props
        .putObject("until")
        .put("description", "FreeMarker expression over 'result'; retry until true.");
    props.putObject("timeout").put("$ref", "#/$defs/duration");
    props.putObject("become").put("type", "boolean");
    props.putObject("become_user").put("type", "string");
    props.putObject("changed_when").put("description", "FreeMarker expression over 'result'.");
    props.putObject("failed_when").put("description", "FreeMarker expression over 'result'.");
    props.putObject("ignore_errors").put("type", "boolean");
    props
        .putObject("idempotent")
        .put("type", "boolean")
        .put(
            "description",
            "Safe to run twice: runbook resume re-runs it if the controller died while it ran; otherwise that host is rolled back.");
    props
        .putObject("delegate_to")
        .put("type", "string")
        .put(
            "description",
            "Run this step (and its handlers) on this inventory host instead, with the target's variables; a template is rendered per target.");
    props
        .putObject("loop")
        .put(
            "description",
            "Run the step once per item: a list, or a string \"[=expr]\" whose expression yields a list.")
        .putArray("type")
        .add("array")
        .add("string");
    props
        .putObject("loop_var")
        .put("type", "string")
        .put("description", "The variable each item is bound to (default: item).");
    props
        .putObject("rollback")
        .put("$ref", "#/$defs/steps")
        .put(
            "description",
            "Handlers that undo this step; they run last-first after a later failure.");
    ArrayNode oneOf = step.putArray("oneOf");
    TreeMap<String, Step<?>> sorted = new TreeMap<>();
    StepRegistry.all().forEach(s -> sorted.put(s.key(), s));
    sorted.forEach(
        (k, s) -> {
          ObjectNode args = JsonSchemas.json(s.schemaResource()).deepCopy();
          args.remove("$schema");
          args.remove("$id");
          props.set(k, args);
          oneOf.addObject().putArray("required").add(k);
        });
    return root;
  }
}
