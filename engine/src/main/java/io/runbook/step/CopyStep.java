package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.result.StepResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code copy:} puts a file on the host from inline {@code content} or a controller-side {@code
 * src}. Writes only when the host's copy differs (sha256), atomically, and undoes itself: the
 * previous file comes back, or the new one goes away if there was none.
 */
public final class CopyStep extends StepType<CopyStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param dest absolute path of the file on the host
   * @param content the file's text (already templated by the engine), or null
   * @param src a controller-side file, relative to the runbook's directory, copied byte for byte,
   *     or null
   * @param mode octal permissions such as "0644"; null keeps an existing file's mode (new files:
   *     0644)
   * @param owner user or user:group to chown the file to, or null
   * @param backup also keep a timestamped copy of a replaced file next to it on the host
   */
  public record Args(
      String dest, String content, String src, String mode, String owner, Boolean backup) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      backup = backup != null && backup;
    }
  }

  public CopyStep() {
    super("copy", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    List<String> problems = new ArrayList<>();
    if ((args.content() == null) == (args.src() == null)) {
      problems.add(
          "give exactly one of 'content' (the text) or 'src' (a file next to the runbook)");
    }
    if (args.src() != null) problems.addAll(LocalSource.check("src", args.src()));
    problems.addAll(checkMode(args.mode()));
    return problems;
  }

  @Override
  public List<String> checkFiles(Args args, Path baseDir, Map<String, ?> model) {
    return LocalSource.problems(baseDir, "src", args.src());
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    // Again, on the rendered arguments: a value from a variable was only "[=x]" when first checked.
    List<String> problems = validate(args);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    byte[] bytes;
    if (args.content() != null) {
      bytes = args.content().getBytes(StandardCharsets.UTF_8);
    } else {
      LocalSource.Loaded src = LocalSource.load(ctx, "src", args.src());
      if (src.failure() != null) return src.failure();
      bytes = src.bytes();
    }
    return RemoteFile.put(ctx, args.dest(), bytes, args.mode(), args.owner(), args.backup());
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public Optional<Undo> undo(Args args, StepResult result) {
    return RemoteFile.undo(result);
  }

  /**
   * Octal only: a symbolic mode ("u+x") cannot be compared with the host's file to decide
   * idempotence.
   */
  static List<String> checkMode(String mode) {
    if (mode == null || mode.matches("0?[0-7]{3,4}")) return List.of();
    return List.of(
        "mode '"
            + mode
            + "' is not octal; write it like \"0644\" (quoted, or YAML reads 0644 as a number)");
  }
}
