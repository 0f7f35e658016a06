package io.runbook.transport;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One command to run on a host.
 *
 * @param command a POSIX shell command line
 * @param stdin bytes fed to the command's standard input, or null for none
 * @param timeout how long the command may run before it is killed
 * @param become privilege escalation
 * @param env environment variables exported for the command
 * @param chdir directory to run in, or null for the login directory
 * @param maxOutput how many bytes of each output stream to keep (the tail is kept)
 */
// stdin as given; never compared or hashed
@SuppressWarnings("ArrayRecordComponent")
public record ExecRequest(
    String command,
    byte[] stdin,
    Duration timeout,
    Become become,
    Map<String, String> env,
    String chdir,
    int maxOutput) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
  public static final int DEFAULT_MAX_OUTPUT = 1 << 20;

  public ExecRequest {
    if (command == null || command.isBlank()) throw new IllegalArgumentException("empty command");
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    become = become == null ? Become.NONE : become;
    env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
  }

  /** The command line as the host's shell must run it: cd, exports and sudo applied. */
  public String shellCommand() {
    return become.wrap(innerCommand());
  }

  /** The command line with cd and exports applied, before sudo. */
  public String innerCommand() {
    StringBuilder sb = new StringBuilder();
    if (chdir != null) sb.append("cd ").append(Shell.quote(chdir)).append(" && ");
    env.forEach(
        (k, v) -> sb.append("export ").append(k).append('=').append(Shell.quote(v)).append("; "));
    sb.append(command);
    return sb.toString();
  }

  public static Builder builder(String command) {
    return new Builder(command);
  }

  public static final class Builder {
    private final String command;
    private byte[] stdin;
    private Duration timeout;
    private Become become;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String chdir;
    private int maxOutput = DEFAULT_MAX_OUTPUT;

    private Builder(String command) {
      this.command = command;
    }

    public Builder stdin(byte[] stdin) {
      this.stdin = stdin;
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    public Builder become(Become become) {
      this.become = become;
      return this;
    }

    public Builder env(Map<String, String> env) {
      this.env.putAll(env);
      return this;
    }

    public Builder chdir(String chdir) {
      this.chdir = chdir;
      return this;
    }

    public Builder maxOutput(int maxOutput) {
      this.maxOutput = maxOutput;
      return this;
    }

    public ExecRequest build() {
      return new ExecRequest(command, stdin, timeout, become, env, chdir, maxOutput);
    }
  }
}
