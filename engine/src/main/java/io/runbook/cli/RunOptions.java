package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.engine.Engine;
import io.runbook.engine.Executed;
import io.runbook.engine.Launch;
import io.runbook.event.EventListener;
import io.runbook.event.RunStarted;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.execution.Executor;
import io.runbook.execution.Plan;
import io.runbook.execution.RunControl;
import io.runbook.execution.StandardConnector;
import io.runbook.inventory.Host;
import io.runbook.journal.EventJson;
import io.runbook.journal.JournalWriter;
import io.runbook.result.RunResult;
import io.runbook.secret.SecretValues;
import io.runbook.secret.SecretsFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a run is carried out and watched; shared by apply, resume and rollback. */
final class RunOptions {
  @Mixin ConnectionOptions connection;

  @Option(
      names = "--forks",
      defaultValue = "10",
      description = "Hosts to run in parallel (default ${DEFAULT-VALUE}).")
  int forks;

  @Option(
      names = {"-y", "--yes"},
      description = "Do not ask for confirmation (required without a terminal).")
  boolean yes;

  @Option(
      names = "--json",
      description = "Stream the run's events to stdout as JSON lines instead of the console view.")
  boolean json;

  @Option(
      names = "--state-dir",
      defaultValue = ".runbook",
      description = "Where run journals are kept (default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--break-lock",
      description =
          "Take the host locks even when another run holds them (written to the journal).")
  boolean breakLock;

  @Option(
      names = "--lock-lease",
      defaultValue = "300",
      paramLabel = "SECONDS",
      description =
          "How long a host lock outlives a controller that stopped renewing it (default ${DEFAULT-VALUE}; "
              + "never less than the longest step time-out plus a minute).")
  int lockLease;

  @Option(
      names = "--orphan-wait",
      defaultValue = "120",
      paramLabel = "SECONDS",
      description =
          "resume/rollback: how long to wait for a dead controller's command still running on a host "
              + "before stopping it (default ${DEFAULT-VALUE}).")
  int orphanWait;

  int execute(CommandLine.Model.CommandSpec spec, Plan plan, RunStarted.Request request)
      throws Exception {
    return execute(
        spec,
        plan,
        "Apply",
        false,
        executor -> {
          // the journal shows secret -e values masked; resume and rollback find them here
          SecretsFile.write(
              JournalWriter.runDir(stateDir, plan.runId()),
              request.extraVars(),
              SecretValues.of(plan).redactor());
          return executor.run(plan, request);
        });
  }

  /**
   * Runs {@code action} through {@link Engine#execute} with what the terminal adds: the
   * confirmation, the console or JSON view, and Ctrl-C handling.
   *
   * @param append continue the run's existing journal (resume, rollback) instead of starting one
   */
  int execute(
      CommandLine.Model.CommandSpec spec,
      Plan plan,
      String verb,
      boolean append,
      Function<Executor, RunResult> action)
      throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (forks < 1)
      throw new RunbookException(ErrorCode.INVALID_INPUT, "--forks must be at least 1");
    // How each host is reached (ssh_config, jump hosts, keys) is input like the rest: checked
    // before asking.
    StandardConnector connector = StandardConnector.forForks(connection.settings(), forks);
    // the hosts steps are delegated to are reached with their own settings, checked alike
    Map<String, Host> reached = new LinkedHashMap<>();
    plan.hosts().forEach(h -> reached.put(h.name(), h.host()));
    plan.hosts().forEach(h -> h.delegates().forEach(reached::putIfAbsent));
    if (plan.once() != null) {
      reached.putIfAbsent(plan.once().host().name(), plan.once().host());
      plan.once().delegates().forEach(reached::putIfAbsent);
    }
    connector.prepare(List.copyOf(reached.values()));
    if (!yes
        && !ask(
            out,
            verb
                + " '"
                + plan.displayName()
                + "' on "
                + plan.hosts().size()
                + " host(s): "
                + String.join(", ", plan.hosts().stream().map(h -> h.name()).toList())
                + "?",
            plan)) {
      out.println("Nothing was run.");
      return ErrorCode.INVALID_INPUT.exitCode();
    }
    if (orphanWait < 0)
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, "--orphan-wait must be 0 or more seconds");
    SecretValues secrets = SecretValues.of(plan);
    Inputs.warnUnmasked(spec, secrets);
    RunControl control =
        Engine.control(plan, Duration.ofSeconds(lockLease), breakLock)
            .orphanWait(Duration.ofSeconds(orphanWait));
    CountDownLatch done = new CountDownLatch(1);
    // The steps running right now, for what an interrupt says it waits for.
    Map<String, String> inFlight = new ConcurrentSkipListMap<>();
    PrintWriter err = spec.commandLine().getErr();
    Thread hook =
        new Thread(
            () -> {
              // Ctrl-C or SIGTERM: let the run wind down (steps in flight finish, rollback per
              // policy, recap), then exit.
              control.cancel();
              List<String> running =
                  inFlight.entrySet().stream()
                      .map(e -> e.getKey() + " '" + e.getValue() + "'")
                      .toList();
              err.println(
                  "runbook: interrupted — no new step starts; "
                      + (running.isEmpty()
                          ? "no step is running"
                          : "waiting for the step(s) in flight to end ("
                              + String.join(", ", running)
                              + ")")
                      + ", then hosts in progress roll back and the recap follows. To stop waiting: kill -9 "
                      + ProcessHandle.current().pid()
                      + ", then `runbook resume "
                      + plan.runId()
                      + "` or `runbook rollback "
                      + plan.runId()
                      + "` picks the run up.");
              err.flush();
              try {
                done.await(30, TimeUnit.MINUTES);
              } catch (InterruptedException ignored) {
                // exit now
              }
            },
            "runbook-interrupt");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Launch launch =
          new Launch(
              stateDir,
              append,
              connector,
              forks,
              control,
              secrets,
              (batch, batches, hosts) ->
                  yes
                      || ask(
                          out,
                          "Start batch "
                              + batch
                              + "/"
                              + batches
                              + " ("
                              + String.join(", ", hosts)
                              + ")?",
                          plan),
              List.of(
                  journal ->
                      e -> {
                        if (e instanceof StepStarted st) inFlight.put(st.host(), st.name());
                        else if (e instanceof StepFinished sf) inFlight.remove(sf.host());
                      },
                  journal -> view(out, journal)));
      Executed run = Engine.execute(plan, launch, action);
      if (run.journalFailure() != null) {
        err.println("runbook: " + run.journalFailure());
        if (!run.keptInMemoryOnly().isEmpty()) {
          err.println(
              "runbook: the run's journal follows; save it as "
                  + run.journal()
                  + " before resume or rollback:");
          run.keptInMemoryOnly().forEach(err::print);
        }
        err.flush();
      }
      return run.result().exitCode();
    } finally {
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns now that the run is done
      }
    }
  }

  /**
   * What the operator sees of the run: JSON lines on stdout, or the console view naming the
   * journal.
   */
  private EventListener view(PrintWriter out, Path journal) {
    if (json) {
      return e -> {
        out.println(EventJson.line(e));
        out.flush();
      };
    }
    boolean color = Terminal.present() && System.getenv("NO_COLOR") == null;
    return new ConsoleListener(out, color, Inputs.display(journal));
  }

  /**
   * A yes/no question on the terminal; without one, refuse rather than hang (that is what --yes is
   * for).
   */
  private boolean ask(PrintWriter out, String question, Plan plan) {
    if (!Terminal.present()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "no terminal to confirm on: pass --yes to apply "
              + plan.runbook().file()
              + " to "
              + plan.hosts().size()
              + " host(s) without asking");
    }
    out.print(question + " [y/N] ");
    out.flush();
    try {
      String answer =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return answer != null && (answer.equalsIgnoreCase("y") || answer.equalsIgnoreCase("yes"));
    } catch (IOException e) {
      return false;
    }
  }
}
