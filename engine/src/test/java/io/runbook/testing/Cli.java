package io.runbook.testing;

import io.runbook.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The CLI run in-process, as a user would type it, with what it printed. */
public final class Cli {
  private Cli() {}

  /** One CLI run: its exit code and captured stdout and stderr. */
  public record Run(int code, String out, String err) {
    /** Both streams, stdout first. */
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
}
