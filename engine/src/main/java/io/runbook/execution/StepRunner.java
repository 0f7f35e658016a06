package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.model.Runbook;
import io.runbook.model.StepBinding;
import io.runbook.model.StepSpec;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.step.Step;
import io.runbook.template.Templates;
import io.runbook.template.Templates.TemplateError;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import io.runbook.yaml.YamlDocument;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs one step on one host with the generic step keys: {@code when}, templating of the arguments,
 * {@code retries}/{@code delay}/{@code until}, {@code changed_when}/{@code failed_when} and {@code
 * register}. Template and step errors become FAILED results; a lost connection propagates.
 */
final class StepRunner {
  private final Transport transport;
  private final YamlDocument document;
  private final Path baseDir;
  private final Duration defaultTimeout;
  private final Become defaultBecome;
  private final HostDocker docker;

  StepRunner(Transport transport, Runbook runbook, Become defaultBecome) {
    this(transport, runbook.document(), runbook.baseDir(), runbook.timeout(), defaultBecome);
  }

  StepRunner(
      Transport transport,
      YamlDocument document,
      Path baseDir,
      Duration defaultTimeout,
      Become defaultBecome) {
    this.transport = transport;
    this.document = document;
    this.docker = new HostDocker(transport);
    this.baseDir = baseDir;
    this.defaultTimeout = defaultTimeout;
    this.defaultBecome = defaultBecome;
  }

  /**
   * What a run of a step produced: its result, how to undo it automatically when it completed, and
   * whether the connection to the host was lost (the step's effect is then unknown).
   */
  record Outcome(StepResult result, Optional<Step.Undo> undo, boolean lost) {
    Outcome(StepResult result, Optional<Step.Undo> undo) {
      this(result, undo, false);
    }
  }

  /**
   * The items of a looped step, with the variables of the moment: a YAML list rendered item by
   * item, or the list its {@code "[=expr]"} yields (evaluated, not rendered to text).
   *
   * @throws TemplateError when a variable is undefined or the expression does not yield a list
   */
  @SuppressWarnings("unchecked")
  static List<Object> loopItems(StepSpec spec, Map<String, Object> vars) {
    if (spec.loopExpression() == null) {
      return new ArrayList<>((List<Object>) Templates.renderAll(spec.loop(), "loop", vars));
    }
    Object v = Templates.value(spec.loopExpression(), "loop", vars);
    if (v instanceof List<?> l) return new ArrayList<>(l);
    throw new TemplateError("loop: " + spec.loop() + " yields " + Planner.kind(v) + ", not a list");
  }

  /**
   * Releases what steps opened on the host through this runner (its Docker client); the transport
   * stays.
   */
  void close() {
    docker.close();
  }

  Outcome run(String host, StepSpec spec, Step<?> step, Map<String, Object> vars) {
    return run(host, spec, step, vars, data -> {});
  }

  /**
   * @param checkpoint where the step's undo state goes before it changes the host (the journal)
   */
  Outcome run(
      String host,
      StepSpec spec,
      Step<?> step,
      Map<String, Object> vars,
      Consumer<Map<String, Object>> checkpoint) {
    long started = System.nanoTime();
    try {
      if (spec.when() != null && !Templates.evaluate(spec.when(), "when", vars)) {
        return new Outcome(
            StepResult.skipped("condition is false: " + spec.when()), Optional.empty());
      }
      Outcome o = attempts(host, spec, step, vars, checkpoint);
      StepResult r =
          o.result()
              .withTiming(Duration.ofNanos(System.nanoTime() - started), o.result().attempts());
      if (spec.register() != null) vars.put(spec.register(), r.registered());
      return new Outcome(r, o.undo());
    } catch (TemplateError e) {
      return new Outcome(
          StepResult.failed("template: " + e.getMessage())
              .withTiming(Duration.ofNanos(System.nanoTime() - started), 1),
          Optional.empty());
    } catch (TransportException e) {
      return new Outcome(
          StepResult.failed(e.getMessage())
              .withTiming(Duration.ofNanos(System.nanoTime() - started), 1),
          Optional.empty(),
          true);
    }
  }

  /** The context a step runs in: its own time-out and privilege escalation, else the run's. */
  private HostStepContext context(String host, StepSpec spec, Map<String, Object> vars) {
    return context(host, spec, vars, data -> {});
  }

  private HostStepContext context(
      String host,
      StepSpec spec,
      Map<String, Object> vars,
      Consumer<Map<String, Object>> checkpoint) {
    Duration timeout = spec.timeout() != null ? spec.timeout() : defaultTimeout;
    Become become =
        spec.become() == null
            ? defaultBecome
            : spec.become()
                ? Become.as(spec.becomeUser() != null ? spec.becomeUser() : defaultBecome.user())
                : Become.NONE;
    return new HostStepContext(host, transport, timeout, become, baseDir, vars, docker, checkpoint);
  }

  private <A> Outcome attempts(
      String host,
      StepSpec spec,
      Step<A> step,
      Map<String, Object> vars,
      Consumer<Map<String, Object>> checkpoint) {
    HostStepContext ctx = context(host, spec, vars, checkpoint);
    int attempt = 0;
    while (true) {
      attempt++;
      A args;
      StepResult r;
      Optional<Step.Undo> undo = Optional.empty();
      try {
        Object rendered = Templates.renderAll(spec.args(), spec.name(), vars);
        StepBinding.Bound<A> bound = bind(step, spec, rendered);
        if (bound.args() == null) {
          return new Outcome(
              StepResult.failed(
                  "invalid arguments once rendered: " + String.join("; ", bound.problems())),
              Optional.empty());
        }
        args = bound.args();
        r = step.execute(args, ctx);
        // an explicit rollback: replaces the step type's own undo (as for a resumed run, undoFor)
        if (!r.failed() && spec.rollback() == null) undo = step.undo(args, r);
      } catch (TransportException e) {
        throw e;
      } catch (TemplateError e) {
        throw e;
      } catch (IllegalArgumentException e) {
        r =
            StepResult.failed(
                "invalid arguments: " + e.getMessage().lines().findFirst().orElse(""));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransportException(host, "interrupted");
      } catch (RunbookException e) {
        r = StepResult.failed(e.getMessage());
      } catch (Exception e) {
        r = internalError(host, spec, e);
      }
      r = applyConditions(spec, r, vars);
      boolean done = spec.until() == null ? !r.failed() : !r.failed() && untilHolds(spec, r, vars);
      if (done || attempt > spec.retries()) {
        if (!done && spec.until() != null && !r.failed()) {
          r =
              r.withStatus(
                  Status.FAILED,
                  "'until' still false after " + attempt + " attempt(s): " + spec.until());
        }
        return new Outcome(r.withTiming(Duration.ofMillis(r.durationMillis()), attempt), undo);
      }
      sleep(spec.delay());
    }
  }

  /**
   * The automatic undo of a step that completed in an earlier controller's run, rebuilt from its
   * journaled result and the variables as they were then.
   */
  <A> Optional<Step.Undo> undoFor(
      StepSpec spec, Step<A> step, StepResult result, Map<String, Object> vars) {
    if (!step.undoable() || spec.rollback() != null) return Optional.empty();
    StepBinding.Bound<A> bound =
        bind(step, spec, Templates.renderAll(spec.args(), spec.name(), vars));
    if (bound.args() == null) {
      // the step ran with these very values, so this is a bug: say so rather than leave the step
      // undone quietly
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "the undo of '"
              + spec.name()
              + "' cannot be rebuilt from the journal: "
              + String.join("; ", bound.problems()));
    }
    return step.undo(bound.args(), result);
  }

  /**
   * The one binder of arguments, at plan time and at run time: see {@link
   * io.runbook.model.StepBinding#bindRendered}.
   */
  private <A> StepBinding.Bound<A> bind(Step<A> step, StepSpec spec, Object rendered) {
    if (document == null) {
      return new StepBinding.Bound<>(step.bind(rendered), List.of());
    }
    return StepBinding.bindRendered(
        step,
        rendered,
        document,
        YamlDocument.child(spec.pointer(), spec.type()),
        "step '" + spec.name() + "' (" + spec.type() + ")");
  }

  /**
   * A step type that throws something it does not mean to (a bug) fails its step with a message
   * naming the step, the host and the exception, never "NullPointerException: null"; with {@code
   * --debug} the stack goes into the step's stderr (console, journal).
   */
  private static StepResult internalError(String host, StepSpec spec, Exception e) {
    String what =
        e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    StepResult r =
        StepResult.failed(
            "internal error in step '"
                + spec.name()
                + "' ("
                + spec.type()
                + ") on "
                + host
                + ": "
                + what
                + (Boolean.getBoolean("runbook.debug")
                    ? ""
                    : " (run with --debug for the stack trace)"));
    if (!Boolean.getBoolean("runbook.debug")) return r;
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    return new StepResult(r.status(), null, null, trace.toString(), r.message(), r.data(), 0, 1);
  }

  /**
   * Runs a step type's automatic undo as the step itself ran: same time-out, same privilege
   * escalation.
   */
  StepResult undo(String host, StepSpec spec, Step.Undo undo, Map<String, Object> vars) {
    HostStepContext ctx = context(host, spec, vars);
    try {
      return undo.run(ctx);
    } catch (TransportException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException(host, "interrupted");
    } catch (Exception e) {
      return internalError(host, spec, e);
    }
  }

  private static StepResult applyConditions(StepSpec spec, StepResult r, Map<String, Object> vars) {
    if (r.status() == Status.SKIPPED) return r;
    if (spec.failedWhen() != null) {
      boolean failed = holds(spec.failedWhen(), spec, r, vars);
      if (failed) return r.withStatus(Status.FAILED, "failed_when is true: " + spec.failedWhen());
      if (r.failed()) r = r.withStatus(Status.CHANGED, null);
    }
    if (spec.changedWhen() != null && !r.failed()) {
      r =
          r.withStatus(
              holds(spec.changedWhen(), spec, r, vars) ? Status.CHANGED : Status.OK, r.message());
    }
    return r;
  }

  /**
   * {@code until} over a result that is not there yet ({@code health.json.version} before the
   * service answers JSON) means "not yet", not a broken runbook; the last attempt reports why.
   */
  private static boolean untilHolds(StepSpec spec, StepResult r, Map<String, Object> vars) {
    try {
      return holds(spec.until(), spec, r, vars);
    } catch (TemplateError e) {
      return false;
    }
  }

  /**
   * Evaluates a condition that may refer to this step's result as {@code result} or its register
   * name.
   */
  private static boolean holds(String expr, StepSpec spec, StepResult r, Map<String, Object> vars) {
    Map<String, Object> model = new LinkedHashMap<>(vars);
    Map<String, Object> reg = r.registered();
    model.put("result", reg);
    if (spec.register() != null) model.put(spec.register(), reg);
    return Templates.evaluate(expr, expr, model);
  }

  private static void sleep(Duration d) {
    if (d.isZero()) return;
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException("controller", "interrupted");
    }
  }
}
