package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code config_diff:} compares a JSON or YAML config on the host with the config a runbook expects
 * (a FreeMarker template rendered with the host's variables, or a file used as it is) by key path,
 * the seed guide's "compare your config with the template" step. A report: ok whatever it finds,
 * unless {@code fail_on} names a kind of difference that must not be there.
 */
public final class ConfigDiffStep extends StepType<ConfigDiffStep.Args> {
  static final List<String> KINDS = List.of("missing", "extra", "changed");

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param path the config file on the host, JSON or YAML
   * @param template a controller file rendered with FreeMarker first, relative to the runbook
   * @param against a controller file compared as it is (no rendering), relative to the runbook
   * @param compareValues also list values that differ (implied when {@code fail_on} has "changed")
   * @param failOn kinds of difference that fail the step: missing, extra, changed
   */
  public record Args(
      String path,
      String template,
      String against,
      @JsonProperty("compare_values") Boolean compareValues,
      @JsonProperty("fail_on") List<String> failOn) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      failOn = failOn == null ? List.of() : List.copyOf(failOn);
      compareValues = Boolean.TRUE.equals(compareValues) || failOn.contains("changed");
    }

    String source() {
      return template != null ? template : against;
    }
  }

  public ConfigDiffStep() {
    super("config_diff", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    List<String> problems = new ArrayList<>();
    if (args.template() != null && args.against() != null) {
      problems.add(
          "give either 'template' (rendered first) or 'against' (compared as it is), not both");
    } else if (args.source() == null) {
      problems.add(
          "give 'template' (a FreeMarker file rendered first) or 'against' (a file compared as it is)");
    } else {
      problems.addAll(
          LocalSource.check(args.template() != null ? "template" : "against", args.source()));
    }
    args.failOn().stream()
        .filter(k -> !KINDS.contains(k))
        .forEach(
            k -> problems.add("fail_on: unknown kind '" + k + "'; use missing, extra or changed"));
    return problems;
  }

  @Override
  public List<String> checkFiles(Args args, Path baseDir, Map<String, ?> model) {
    return args.template() != null
        ? LocalSource.templateProblems(baseDir, "template", args.template(), model)
        : LocalSource.problems(baseDir, "against", args.against());
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    String key = args.template() != null ? "template" : "against";
    LocalSource.Loaded src = LocalSource.load(ctx, key, args.source());
    if (src.failure() != null) return src.failure();
    byte[] expectedBytes = src.bytes();
    if (args.template() != null) {
      try {
        expectedBytes =
            ctx.render(new String(src.bytes(), StandardCharsets.UTF_8), args.template())
                .getBytes(StandardCharsets.UTF_8);
      } catch (Templates.TemplateError e) {
        return StepResult.failed(args.template() + ": " + e.getMessage());
      }
    }
    ConfigFiles.Parsed expected = ConfigFiles.parse(args.source(), expectedBytes);
    if (expected.failed()) return StepResult.failed(args.source() + ": " + expected.error());
    if (expected.empty()) return StepResult.failed(args.source() + " is empty");
    RemoteFile.Read file = RemoteFile.read(ctx, args.path());
    if (file.failure() != null) return file.failure();
    ConfigFiles.Parsed actual = ConfigFiles.parse(args.path(), file.bytes());
    if (actual.failed()) return StepResult.failed(args.path() + ": " + actual.error());
    if (actual.empty()) return StepResult.failed(args.path() + " is empty");

    ConfigDiff diff = ConfigDiff.compare(actual.value(), expected.value(), args.compareValues());
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("path", args.path());
    data.put("missing", diff.missing());
    data.put("extra", diff.extra());
    data.put("changed", diff.changed());
    if (diff.isEmpty()) {
      String same = args.compareValues() ? "same keys and values as " : "same keys as ";
      return StepResult.ok(same + args.source()).withData(data);
    }
    List<String> failing =
        args.failOn().stream().filter(k -> !((List<?>) data.get(k)).isEmpty()).toList();
    if (failing.isEmpty()) return StepResult.ok(diff.summary()).withData(data);
    return StepResult.failed(diff.summary() + " (fail_on: " + String.join(", ", failing) + ")")
        .withData(data);
  }
}
