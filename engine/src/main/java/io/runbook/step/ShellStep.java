package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.result.StepResult;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code shell:} a script or a line run by the host's {@code /bin/sh}, so pipes, globs, {@code
 * $VAR} and {@code &&} work. Changed when it exits 0, failed otherwise; {@code changed_when}/{@code
 * failed_when} refine that in the engine.
 */
public final class ShellStep extends StepType<ShellStep.Args> {

  /**
   * {@code shell: "systemctl restart app"} or {@code shell: {cmd: ..., chdir, env, stdin, creates,
   * removes}}.
   */
  public record Args(
      String cmd,
      String chdir,
      Map<String, String> env,
      String stdin,
      String creates,
      String removes) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Args of(String cmd) {
      return new Args(cmd, null, null, null, null, null);
    }

    HostCommand options() {
      return new HostCommand(chdir, env, stdin, creates, removes);
    }
  }

  public ShellStep() {
    super("shell", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    return args.cmd() == null || args.cmd().isBlank() ? List.of("'cmd' is empty") : List.of();
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    return args.options().run(args.cmd(), ctx);
  }
}
