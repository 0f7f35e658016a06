package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import java.util.List;
import java.util.Map;

/**
 * {@code assert:} conditions on the controller's view of the variables (facts, registered results).
 * Fails naming the first condition that does not hold, so the report says which expectation broke.
 */
public final class AssertStep extends StepType<AssertStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param that one FreeMarker condition or a list that must all hold, e.g. {@code installed.rc ==
   *     0}
   * @param failMsg said when a condition is false, before naming it
   * @param successMsg said when all hold
   */
  public record Args(
      @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> that,
      @JsonProperty("fail_msg") String failMsg,
      @JsonProperty("success_msg") String successMsg) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      that = that == null ? List.of() : List.copyOf(that);
    }
  }

  public AssertStep() {
    super("assert", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    if (args.that().isEmpty()) return List.of("'that' is empty; give a condition such as rc == 0");
    if (args.that().stream().anyMatch(String::isBlank))
      return List.of("'that' has an empty condition");
    return List.of();
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    String prefix = args.failMsg() == null ? "assertion failed: " : args.failMsg() + ": ";
    for (String expr : args.that()) {
      boolean holds;
      try {
        holds = ctx.evaluate(expr);
      } catch (Templates.TemplateError e) {
        return StepResult.failed(prefix + "cannot evaluate '" + expr + "': " + e.getMessage())
            .withData(Map.of("assertion", expr));
      }
      if (!holds) {
        return StepResult.failed(prefix + "'" + expr + "' is false")
            .withData(Map.of("assertion", expr));
      }
    }
    String ok =
        args.successMsg() != null
            ? args.successMsg()
            : args.that().size() == 1
                ? "'" + args.that().get(0) + "' holds"
                : "all " + args.that().size() + " conditions hold";
    return StepResult.ok(ok);
  }
}
