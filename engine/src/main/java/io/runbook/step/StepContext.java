package io.runbook.step;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.docker.DockerEngine;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** What a step may use while it runs on one host. */
public interface StepContext {

  /** The inventory name of the host. */
  String hostName();

  /** The host's connection. Steps go through it for everything that touches the host. */
  Transport transport();

  /** The step's time-out ({@code timeout:}, else the run default). */
  Duration timeout();

  /** The step's privilege escalation ({@code become:} on the step, host or runbook). */
  Become become();

  /** Directory of the runbook file; relative local paths ({@code src:}) resolve against it. */
  Path baseDir();

  /**
   * Every variable visible to this step: host, group, runbook and extra vars, facts, registered
   * values.
   */
  Map<String, Object> vars();

  /** Renders a FreeMarker template text (the {@code [=var]} syntax) with {@link #vars()}. */
  String render(String templateText, String templateName);

  /**
   * Evaluates a condition written as a FreeMarker expression ({@code rc == 0}) against {@link
   * #vars()}.
   */
  boolean evaluate(String expression);

  /**
   * The host's Docker daemon, reached over the host's connection (the daemon socket forwarded
   * through SSH, or the local socket); opened on first use and closed with the host.
   *
   * @throws RunbookException (HOST_FAILED) when the daemon cannot be reached or used, saying what
   *     to do
   */
  default DockerEngine docker() {
    throw new RunbookException(
        ErrorCode.HOST_FAILED, hostName() + ": no Docker daemon in this context");
  }

  /** Runs a shell command on the host with this step's time-out and privilege escalation. */
  /**
   * Journals how to take back the change the step is about to make, before it makes it: the data
   * its {@link Step#undo} will find in the result's {@code data} if the controller dies while the
   * step runs (the step's outcome is then unknown, and the next controller undoes it as possibly
   * done). Private: it goes to the run's owner-only undo state, never to the journal. An undo built
   * from it must be safe to run whether or not the change happened.
   */
  default void checkpoint(Map<String, Object> undoState) {}

  default ExecResult exec(String command) {
    return transport()
        .exec(ExecRequest.builder(command).timeout(timeout()).become(become()).build());
  }
}
