package io.runbook.step;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import java.util.List;

/**
 * What the steps that do their work in one shell script ({@code backup}, {@code restore}, {@code
 * sqlite}) share: the run itself, and the failure message. A script explains a refusal itself by
 * printing a line starting with {@value #SAYS} to stderr; any other failure is named by the first
 * line the failing tool printed (tar's last line is only "Exiting with failure status").
 */
final class HostScript {
  static final String SAYS = "runbook: ";

  private HostScript() {}

  static ExecResult run(StepContext ctx, String script, byte[] stdin) {
    return ctx.transport()
        .exec(
            ExecRequest.builder(script)
                .stdin(stdin)
                .timeout(ctx.timeout())
                .become(ctx.become())
                .build());
  }

  /** The lines of stdout that start with {@code tag + " "}, without it. */
  static List<String> tagged(ExecResult r, String tag) {
    return r.stdoutText()
        .lines()
        .filter(l -> l.startsWith(tag + " "))
        .map(l -> l.substring(tag.length() + 1))
        .toList();
  }

  /** A FAILED result for a script that did not exit 0; {@code what} says what could not be done. */
  static StepResult failed(ExecResult r, String what) {
    StepResult base = StepResult.fromExec(r);
    if (r.timedOut())
      return base.withStatus(
          Status.FAILED, what + ": timed out after " + r.duration().toSeconds() + " s");
    List<String> lines =
        r.stderrText().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    String own = lines.stream().filter(l -> l.startsWith(SAYS)).reduce((a, b) -> b).orElse(null);
    if (own != null) return base.withStatus(Status.FAILED, own.substring(SAYS.length()));
    String cause =
        lines.stream()
            .filter(l -> !l.contains("Exiting with failure status"))
            .findFirst()
            .orElse("exit code " + r.exitCode());
    return base.withStatus(Status.FAILED, what + ": " + cause);
  }

  /**
   * {@code name} as an extended regular expression for grep, for names checked to be
   * [A-Za-z0-9._-].
   */
  static String ere(String name) {
    return name.replace(".", "\\.");
  }
}
