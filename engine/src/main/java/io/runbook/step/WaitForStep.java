package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code wait_for:} waits on the host until a TCP port opens (or closes) or a path appears (or
 * goes). The whole polling loop is one remote shell command, so a minute of waiting costs one round
 * trip.
 */
public final class WaitForStep extends StepType<WaitForStep.Args> {
  private static final Set<String> STATES = Set.of("started", "stopped", "present", "absent");

  /**
   * Defines {@code probe} for host $H, port $P: bash's /dev/tcp, or python3 where there is no bash,
   * each attempt bounded by timeout(1) so that a firewall that drops packets cannot stall the loop.
   * Exit 3 when the host has neither.
   */
  private static final String PROBE =
      """
      t=; command -v timeout >/dev/null 2>&1 && t='timeout 2'; \
      if command -v bash >/dev/null 2>&1; then \
      probe() { $t bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$H" "$P" 2>/dev/null; }; \
      elif command -v python3 >/dev/null 2>&1; then \
      probe() { $t python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)' "$H" "$P" \
      2>/dev/null; }; \
      else echo 'wait_for needs bash or python3 on the host to probe a port' >&2; exit 3; fi;""";

  /**
   * Polls once a second; exit 0 printing the elapsed seconds when the condition holds, 1 when time
   * ran out. date(1) counts whole seconds and the start may fall at the end of one: the end is one
   * second later, so at least the time-out passes (with start 12:00:00.98 and end start + 1, a
   * failed probe at 12:00:01.00 gave up after 20 ms).
   */
  private static final String LOOP =
      """
      start=$(date +%%s); end=$((start + %d + 1)); sleep %d; \
      while :; do if %s; then echo $(($(date +%%s) - start)); exit 0; fi; \
      [ "$(date +%%s)" -ge "$end" ] && exit 1; sleep 1; done""";

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param host address as seen from the target host, default 127.0.0.1
   * @param state started/present (the default) waits for it to appear, stopped/absent for it to go
   * @param delaySeconds wait this long before the first check
   */
  public record Args(
      Integer port,
      String host,
      String path,
      String state,
      @JsonProperty("timeout_seconds") Integer timeoutSeconds,
      @JsonProperty("delay_seconds") Integer delaySeconds) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      host = host == null ? "127.0.0.1" : host;
      state = state == null ? "started" : state;
      timeoutSeconds = timeoutSeconds == null ? 60 : timeoutSeconds;
      delaySeconds = delaySeconds == null ? 0 : delaySeconds;
    }

    /** started and present are the same wish, as in Ansible; so are stopped and absent. */
    boolean appear() {
      return state.equals("started") || state.equals("present");
    }

    String subject() {
      return port != null ? "port " + port + " on " + host : path;
    }
  }

  public WaitForStep() {
    super("wait_for", Args.class);
  }

  @Override
  public List<String> validate(Args args) {
    List<String> problems = new ArrayList<>();
    if ((args.port() == null) == (args.path() == null))
      problems.add("give exactly one of 'port' or 'path'");
    if (!STATES.contains(args.state()))
      problems.add("state must be one of started, stopped, present, absent");
    if (args.timeoutSeconds() < 0 || args.delaySeconds() < 0)
      problems.add("timeout_seconds and delay_seconds cannot be negative");
    return problems;
  }

  @Override
  public StepResult execute(Args args, StepContext ctx) {
    // Again, on the rendered arguments: a value from a variable was only "[=x]" when first checked.
    List<String> problems = validate(args);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    ExecResult r = ctx.exec(script(args));
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("state", args.state());
    if (args.port() != null) {
      data.put("port", args.port());
      data.put("host", args.host());
    } else {
      data.put("path", args.path());
    }
    String out = r.stdoutText().strip();
    if (r.exitCode() == 0 && out.matches("\\d+"))
      data.put("elapsed_seconds", Integer.parseInt(out));
    StepResult base = StepResult.fromExec(r).withData(data);
    if (r.timedOut()) return base;
    boolean port = args.port() != null;
    return switch (r.exitCode()) {
      case 0 ->
          base.withStatus(
              Status.OK,
              args.subject()
                  + " "
                  + (args.appear() ? (port ? "open" : "present") : (port ? "closed" : "gone"))
                  + " after "
                  + out
                  + " s");
      case 1 ->
          base.withStatus(
              Status.FAILED,
              args.subject()
                  + " "
                  + (args.appear() ? "not " : "still ")
                  + (port ? "open" : "present")
                  + " after "
                  + args.timeoutSeconds()
                  + " s");
      default ->
          base.withStatus(
              Status.FAILED, "cannot check " + args.subject() + ": " + r.stderrText().strip());
    };
  }

  /** The remote command for {@code a}; see {@link #PROBE} and {@link #LOOP}. */
  static String script(Args a) {
    boolean port = a.port() != null;
    String subject =
        port
            ? "H=" + Shell.quote(a.host()) + "; P=" + a.port() + "; " + PROBE
            : "F=" + Shell.quote(a.path()) + "; ";
    String cond = (a.appear() ? "" : "! ") + (port ? "probe" : "[ -e \"$F\" ]");
    return subject + LOOP.formatted(a.timeoutSeconds(), a.delaySeconds(), cond);
  }
}
