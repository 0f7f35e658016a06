package io.runbook.model;

import com.fasterxml.jackson.databind.JsonMappingException;
import io.runbook.step.Step;
import io.runbook.template.Templates;
import io.runbook.yaml.JsonSchemas;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Binds a step's (rendered) arguments to its argument record, reporting mismatches at their
 * location.
 */
public final class StepBinding {

  private StepBinding() {}

  /**
   * Binds and runs the step's own checks; adds problems and returns empty when the arguments are
   * bad.
   */
  public static <A> Optional<A> bind(
      Step<A> step,
      Object args,
      YamlDocument doc,
      String pointer,
      String label,
      Problems problems) {
    return bind(step, args, doc, pointer, label, problems, null);
  }

  /**
   * Binds, runs the step's own checks and, when they pass, checks its controller-side files against
   * the runbook's directory ({@code model}: the host's variables, or null without an inventory).
   */
  public static <A> Optional<A> bind(
      Step<A> step,
      Object args,
      YamlDocument doc,
      String pointer,
      String label,
      Problems problems,
      Map<String, ?> model) {
    A bound;
    try {
      bound = step.bind(args);
    } catch (IllegalArgumentException e) {
      String at = pointer;
      String msg = e.getMessage();
      if (e.getCause() instanceof JsonMappingException jme) {
        StringBuilder sub = new StringBuilder();
        for (JsonMappingException.Reference r : jme.getPath()) {
          sub.append('/')
              .append(r.getFieldName() != null ? r.getFieldName() : String.valueOf(r.getIndex()));
        }
        at = pointer + sub;
        msg = jme.getOriginalMessage();
      }
      problems.add(doc.location(at), label + ": invalid arguments: " + plain(msg));
      return Optional.empty();
    }
    if (bound == null) {
      problems.add(doc.location(pointer), label + ": arguments are missing");
      return Optional.empty();
    }
    var messages = step.validate(bound);
    if (messages.isEmpty() && doc.path() != null) {
      Path dir = doc.path().toAbsolutePath().getParent();
      messages = step.checkFiles(bound, dir, model);
    }
    messages.forEach(m -> problems.add(doc.location(pointer), label + ": " + m));
    return messages.isEmpty() ? Optional.of(bound) : Optional.empty();
  }

  /**
   * The arguments of a step as they are about to run: rendered with the host's values, then held to
   * the same rules as arguments written literally — the step's JSON Schema, the binding, and its
   * own checks — every time, for every step type. A value from a variable or a registered result
   * gets no pass that a literal would not ({@code mode: "[=m.stdout]"} rendering to {@code u+x}, a
   * table name with SQL in it).
   *
   * @return the bound arguments, or the problems (located at the step in the runbook), never both
   */
  public static <A> Bound<A> bindRendered(
      Step<A> step, Object rendered, YamlDocument doc, String pointer, String label) {
    Problems problems = new Problems();
    if (JsonSchemas.validate(
        JsonSchemas.load(step.schemaResource()),
        rendered,
        doc,
        pointer,
        label,
        problems,
        Templates::isTemplate)) {
      Optional<A> args = bind(step, rendered, doc, pointer, label, problems);
      if (args.isPresent() && problems.isEmpty()) return new Bound<>(args.get(), List.of());
    }
    return new Bound<>(null, problems.sorted().stream().map(p -> p.message()).toList());
  }

  /** Bound arguments, or why they cannot be bound. */
  public record Bound<A>(A args, List<String> problems) {}

  /** Jackson's messages name Java types; keep the first sentence and drop the type names. */
  private static String plain(String msg) {
    if (msg == null) return "cannot read them";
    String first = msg.lines().findFirst().orElse(msg);
    return first
        .replaceAll("`[a-zA-Z0-9_.$]+\\.([A-Za-z0-9_$]+)`", "$1")
        .replaceAll("\\(class [^)]*\\)", "")
        .strip();
  }
}
