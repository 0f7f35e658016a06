package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.result.StepResult;
import io.runbook.transport.Shell;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code command:} a program and its arguments, quoted so that the host's shell interprets nothing:
 * no globs, no variables, no pipes. Prefer it to {@code shell} whenever an argument comes from a
 * variable.
 */
public final class CommandStep extends StepType<CommandStep.Args> {

  /**
   * {@code command: [python3, x.py, --version]} or {@code command: {argv: [...], chdir, env, stdin,
   * creates, removes}}.
   */
  public record Args(
      List<String> argv,
      String chdir,
      Map<String, String> env,
      String stdin,
      String creates,
      String removes) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      argv = argv == null ? List.of() : List.copyOf(argv);
      env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Args of(List<String> argv) {
      return new Args(argv, null, null, null, null, null);
    }

    HostCommand options() {
      return new HostCommand(chdir, env, stdin, creates, removes);
    }
  }

  public CommandStep() {
    super("command", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    if (args.argv().isEmpty())
      return List.of("'argv' is empty; give the program and its arguments");
    if (args.argv().get(0).isBlank())
      return List.of("the program (first element of 'argv') is empty");
    return List.of();
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    return args.options().run(Shell.join(args.argv()), ctx);
  }
}
