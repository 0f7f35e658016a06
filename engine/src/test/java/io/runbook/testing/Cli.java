package io.runbook.testing;

import io.runbook.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CLI as a user would type it: in-process with what it printed, or as its own JVM for a test
 * that must kill the controller (SIGKILL, Ctrl-C) or give it its own environment.
 */
public final class Cli {
  /** The jar {@code mvn package} builds, which Failsafe runs after. */
  public static final Path JAR = SampleRuns.REPO.resolve("engine/target/runbook.jar");

  private Cli() {}

  /** One CLI run: its exit code and captured stdout and stderr. */
  public record Run(int code, String out, String err) {
    /** Both streams, stdout first (or, for {@link #runMerged}, interleaved as written). */
    public String all() {
      return out + err;
    }
  }

  public static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            args);
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  public static Run run(List<String> args) {
    return run(args.toArray(String[]::new));
  }

  /**
   * Like {@link #run}, with stdout and stderr into one stream as a terminal shows them: {@code out}
   * holds both, in the order they were written, and {@code err} is empty. For tests that read a
   * progress line and the error after it as one text.
   */
  public static Run runMerged(String... args) {
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    PrintStream stream = new PrintStream(both, true, StandardCharsets.UTF_8);
    int code = Main.run(stream, stream, args);
    return new Run(code, both.toString(StandardCharsets.UTF_8), "");
  }

  public static Run runMerged(List<String> args) {
    return runMerged(args.toArray(String[]::new));
  }

  /**
   * {@code java -jar runbook.jar ARGS}, not started, with stdout and stderr both written to {@code
   * log}; the caller may add to its environment, then starts it.
   */
  public static ProcessBuilder child(Path log, List<String> args) {
    return child(log, List.of(), args);
  }

  /**
   * Like {@link #child(Path, List)}, launched through {@code launcher}: {@code setsid} for a
   * session of its own, {@code env --default-signal=INT} so that Ctrl-C reaches a controller
   * whatever shell started the suite.
   */
  public static ProcessBuilder child(Path log, List<String> launcher, List<String> args) {
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of("java", "-jar", JAR.toString()));
    command.addAll(args);
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
  }
}
