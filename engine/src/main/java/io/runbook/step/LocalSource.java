package io.runbook.step;

import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A controller-side file named by {@code src:} (or {@code schema:}), relative to the runbook's
 * directory.
 */
final class LocalSource {
  private LocalSource() {}

  /** The bytes, or the failed result saying why there are none. */
  // a file's bytes, handed on; never compared
  @SuppressWarnings("ArrayRecordComponent")
  record Loaded(byte[] bytes, StepResult failure) {}

  /**
   * What can be checked before the run. A relative path can only be resolved at run time, since
   * {@link Step#validate} does not know the runbook's directory.
   */
  static List<String> check(String key, String src) {
    List<String> problems = new ArrayList<>();
    if (src == null || src.isBlank()) {
      problems.add("'" + key + "' is empty");
    } else if (src.endsWith("/")
        || (Path.of(src).isAbsolute() && Files.isDirectory(Path.of(src)))) {
      problems.add(directory(key, src));
    } else if (Path.of(src).isAbsolute() && !Files.isRegularFile(Path.of(src))) {
      problems.add(key + " file not found on the controller: " + src);
    }
    return problems;
  }

  static Loaded load(StepContext ctx, String key, String src) {
    return load(ctx.baseDir(), key, src);
  }

  static Loaded load(Path baseDir, String key, String src) {
    Path p = baseDir.resolve(src);
    if (Files.isDirectory(p)) return new Loaded(null, StepResult.failed(directory(key, src)));
    if (!Files.isRegularFile(p)) {
      return new Loaded(null, StepResult.failed(key + " file not found on the controller: " + p));
    }
    try {
      return new Loaded(Files.readAllBytes(p), null);
    } catch (IOException e) {
      return new Loaded(null, StepResult.failed("cannot read " + p + ": " + e.getMessage()));
    }
  }

  /** The problem with a controller file, if any: missing, a directory, unreadable. */
  static List<String> problems(Path baseDir, String key, String src) {
    if (src == null) return List.of();
    StepResult failure = load(baseDir, key, src).failure();
    return failure == null ? List.of() : List.of(failure.message());
  }

  /**
   * The problem with a controller template file, if any: besides {@link #problems}, its syntax,
   * and, with a host's variables, whether it renders (an undefined variable).
   */
  static List<String> templateProblems(Path baseDir, String key, String src, Map<String, ?> model) {
    if (src == null) return List.of();
    Loaded f = load(baseDir, key, src);
    if (f.failure() != null) return List.of(f.failure().message());
    String text = new String(f.bytes(), StandardCharsets.UTF_8);
    if (model == null) {
      return Templates.syntaxProblem(text)
          .map(p -> List.of(key + " " + src + ": " + p))
          .orElse(List.of());
    }
    try {
      Templates.render(text, src, model);
      return List.of();
    } catch (Templates.TemplateError e) {
      return List.of(key + " " + src + ": " + e.getMessage());
    }
  }

  private static String directory(String key, String src) {
    return "'"
        + key
        + "' "
        + src
        + " is a directory; only single files are supported: one step per file,"
        + " or an archive unpacked with shell";
  }
}
