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
import java.util.stream.Collectors;

/**
 * {@code compose:} runs the host's Docker Compose CLI in a project directory: {@code docker
 * compose} (the v2 plugin) if the host has it, else {@code docker-compose} (v1). {@code pull},
 * {@code stop}, {@code up} (detached), {@code run} (a one-off container, removed after) and {@code
 * ps}, which registers the service's state for {@code until:} and {@code failed_when:}. No
 * automatic undo: a runbook says how to go back (e.g. an {@code up} with the previous image).
 */
public final class ComposeStep extends StepType<ComposeStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param action pull, stop, up, run or ps
   * @param projectDir the directory of the compose file
   * @param file the compose file, relative to projectDir; default the CLI's own (compose.yaml,
   *     docker-compose.yml)
   * @param project the project name; default the CLI's (the directory's name)
   * @param service one service; default all (required for run)
   * @param command for run: the command, as an argv list
   */
  public record Args(
      String action,
      @JsonProperty("project_dir") String projectDir,
      String file,
      String project,
      String service,
      List<String> command) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      command = command == null ? List.of() : List.copyOf(command);
    }
  }

  public ComposeStep() {
    super("compose", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    String action = a.action() == null ? "" : a.action();
    if (!List.of("pull", "stop", "up", "run", "ps").contains(action)) {
      problems.add("action '" + action + "' is not one of pull, stop, up, run, ps");
    }
    if (a.projectDir() == null || !a.projectDir().startsWith("/"))
      problems.add("'project_dir' must be an absolute directory on the host");
    if (action.equals("run") && (a.service() == null || a.command().isEmpty()))
      problems.add("'run' needs 'service' and 'command'");
    if (!action.equals("run") && !a.command().isEmpty())
      problems.add("'command' goes with action run");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    String svc = a.service() == null ? "" : " " + Shell.quote(a.service());
    String tail =
        switch (a.action()) {
          case "pull" -> "c pull" + svc;
          case "stop" -> "c stop" + svc;
          case "up" -> "c up -d" + svc;
          case "run" ->
              "c run --rm --no-deps -T"
                  + svc
                  + " "
                  + a.command().stream().map(Shell::quote).collect(Collectors.joining(" "));
          default ->
              "echo \"cli $cli\"; c ps -q"
                  + svc
                  + " | sed 's/^/container /'; "
                  + "c ps --services --filter status=running | sed 's/^/running /'";
        };
    ExecResult r = ctx.exec(script(a) + tail);
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("project_dir", a.projectDir());
    if (a.service() != null) data.put("service", a.service());
    if (r.exitCode() != 0 || r.timedOut()) {
      // compose writes its progress to stderr too: the last line is the one that says why
      String why =
          r.stderrText()
              .lines()
              .map(String::strip)
              .filter(l -> !l.isEmpty())
              .reduce((x, y) -> y)
              .map(l -> l.startsWith(HostScript.SAYS) ? l.substring(HostScript.SAYS.length()) : l)
              .orElse("exit code " + r.exitCode());
      return StepResult.fromExec(r)
          .withStatus(
              Status.FAILED,
              r.timedOut()
                  ? "compose " + a.action() + " timed out"
                  : ctx.hostName()
                      + ": compose "
                      + a.action()
                      + " in "
                      + a.projectDir()
                      + ": "
                      + why)
          .withData(data);
    }
    if (!a.action().equals("ps")) {
      StepResult done = StepResult.fromExec(r);
      boolean upToDate =
          a.action().equals("up")
              && r.stderrText()
                  .lines()
                  .filter(l -> !l.isBlank())
                  .allMatch(l -> l.contains("up-to-date") || l.contains("Running"));
      String msg =
          "compose "
              + a.action()
              + (a.service() == null ? "" : " " + a.service())
              + " in "
              + a.projectDir();
      return (upToDate
              ? done.withStatus(Status.OK, msg + ": up to date")
              : done.withStatus(Status.CHANGED, msg))
          .withData(data);
    }
    List<String> containers = HostScript.tagged(r, "container");
    List<String> running = HostScript.tagged(r, "running");
    data.put("cli", HostScript.tagged(r, "cli").stream().findFirst().orElse(""));
    data.put("containers", containers);
    data.put("running_services", running);
    String state;
    if (a.service() != null) {
      state =
          running.contains(a.service()) ? "running" : containers.isEmpty() ? "absent" : "stopped";
    } else {
      state = running.isEmpty() ? (containers.isEmpty() ? "absent" : "stopped") : "running";
    }
    data.put("state", state);
    data.put("running", state.equals("running"));
    return StepResult.ok(
            (a.service() == null ? "project " : a.service() + " ")
                + state
                + " ("
                + containers.size()
                + " container(s))")
        .withData(data);
  }

  /**
   * cd into the project and choose the CLI as the shell function c: the v2 plugin, else v1, else
   * say what to install.
   */
  private static String script(Args a) {
    String opts =
        (a.file() == null ? "" : " -f " + Shell.quote(a.file()))
            + (a.project() == null ? "" : " -p " + Shell.quote(a.project()));
    return "cd "
        + Shell.quote(a.projectDir())
        + " || exit 3\n"
        + "if docker compose version >/dev/null 2>&1; then cli='docker compose'; c() { docker compose"
        + opts
        + " \"$@\"; }\n"
        + "elif command -v docker-compose >/dev/null 2>&1; then cli=docker-compose; c() { docker-compose"
        + opts
        + " \"$@\"; }\n"
        + "else echo '"
        + HostScript.SAYS
        + "no Docker Compose CLI on this host: install the docker compose plugin "
        + "or the docker-compose package' >&2; exit 127; fi\n";
  }
}
