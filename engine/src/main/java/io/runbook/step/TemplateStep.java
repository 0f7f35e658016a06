package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code template:} renders a controller-side FreeMarker file ({@code [=var]}, {@code [#if]}) with
 * the host's variables and puts the result on the host exactly as {@code copy} does: only when it
 * differs, atomically, undoable.
 */
public final class TemplateStep extends StepType<TemplateStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param src the template, relative to the runbook's directory
   * @param dest absolute path of the rendered file on the host
   * @param mode octal permissions such as "0644"; null keeps an existing file's mode (new files:
   *     0644)
   * @param owner user or user:group to chown the file to, or null
   * @param backup also keep a timestamped copy of a replaced file next to it on the host
   */
  public record Args(String src, String dest, String mode, String owner, Boolean backup) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      backup = backup != null && backup;
    }
  }

  public TemplateStep() {
    super("template", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    List<String> problems = new ArrayList<>(LocalSource.check("src", args.src()));
    problems.addAll(CopyStep.checkMode(args.mode()));
    return problems;
  }

  @Override
  public List<String> checkFiles(Args args, Path baseDir, Map<String, ?> model) {
    return LocalSource.templateProblems(baseDir, "src", args.src(), model);
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    // Again, on the rendered arguments: a value from a variable was only "[=x]" when first checked.
    List<String> problems = validate(args);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    LocalSource.Loaded src = LocalSource.load(ctx, "src", args.src());
    if (src.failure() != null) return src.failure();
    String rendered;
    try {
      rendered = ctx.render(new String(src.bytes(), StandardCharsets.UTF_8), args.src());
    } catch (Templates.TemplateError e) {
      return StepResult.failed(args.src() + ": " + e.getMessage());
    }
    return RemoteFile.put(
        ctx,
        args.dest(),
        rendered.getBytes(StandardCharsets.UTF_8),
        args.mode(),
        args.owner(),
        args.backup());
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public Optional<Undo> undo(Args args, StepResult result) {
    return RemoteFile.undo(result);
  }
}
