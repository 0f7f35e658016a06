package io.runbook.step;

import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What {@code shell} and {@code command} share: the {@code creates}/{@code removes} guards, then
 * one run of the command line with its directory, environment and input.
 *
 * @param chdir directory to run in, or null
 * @param env variables exported for the command
 * @param stdin text fed to the command's standard input, or null
 * @param creates skip the command when this path exists (it already made it)
 * @param removes skip the command when this path does not exist (nothing left to remove)
 */
record HostCommand(
    String chdir, Map<String, String> env, String stdin, String creates, String removes) {

  HostCommand {
    env = env == null ? Map.of() : env;
  }

  StepResult run(String command, StepContext ctx) {
    // The guards resolve relative paths against chdir, as the command itself would (Ansible does
    // too).
    if (creates != null && exists(creates, ctx)) {
      return skip(command, "skipped: " + creates + " exists");
    }
    if (removes != null && !exists(removes, ctx)) {
      return skip(command, "skipped: " + removes + " does not exist");
    }
    ExecRequest.Builder req = request(command, ctx).env(env);
    if (stdin != null) req.stdin(stdin.getBytes(StandardCharsets.UTF_8));
    return StepResult.fromExec(ctx.transport().exec(req.build())).withData(Map.of("cmd", command));
  }

  private boolean exists(String path, StepContext ctx) {
    ExecResult r = ctx.transport().exec(request("test -e " + Shell.quote(path), ctx).build());
    return r.exitCode() == 0;
  }

  private ExecRequest.Builder request(String command, StepContext ctx) {
    ExecRequest.Builder b =
        ExecRequest.builder(command).timeout(ctx.timeout()).become(ctx.become());
    return chdir == null ? b : b.chdir(chdir);
  }

  private static StepResult skip(String command, String why) {
    return StepResult.ok(why).withData(Map.of("cmd", command));
  }
}
