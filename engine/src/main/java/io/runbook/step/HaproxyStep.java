package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.result.StepResult;
import io.runbook.template.Templates;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * {@code haproxy:} reads or sets the admin state of one server of an HAProxy backend through
 * HAProxy's runtime API (see {@link HaproxyRuntime}), on the host the step runs on (usually the
 * load balancer, with {@code delegate_to}). {@code drain} takes the server out of load balancing
 * while its open connections finish, {@code maint} stops all traffic to it, {@code ready} puts it
 * back; {@code wait_sessions} then waits until the server has no session left. Changed only when
 * the admin state changed; the automatic undo sets the admin state it had before.
 */
public final class HaproxyStep extends StepType<HaproxyStep.Args> {
  static final String DEFAULT_SOCKET = "/run/haproxy/admin.sock";
  private static final List<String> STATES = List.of("ready", "drain", "maint");

  /** HAProxy's names of proxies and servers: letters, digits, '-', '_', '.' and ':'. */
  private static final String NAME = "[A-Za-z0-9._:-]+";

  private final Duration poll;

  public HaproxyStep() {
    this(Duration.ofSeconds(1));
  }

  /**
   * @param poll how often wait_sessions reads the sessions (tests make it short)
   */
  HaproxyStep(Duration poll) {
    super("haproxy", Args.class);
    this.poll = poll;
  }

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param socket the runtime API socket on the host, default /run/haproxy/admin.sock
   * @param backend the backend (HAProxy's proxy name)
   * @param server the server in the backend
   * @param state ready, drain or maint; null only reads the state
   * @param waitSessions after drain or maint, how long to wait for the server's sessions to reach 0
   */
  public record Args(
      String socket,
      String backend,
      String server,
      String state,
      @JsonProperty("wait_sessions") String waitSessions) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      socket = socket == null ? DEFAULT_SOCKET : socket;
    }

    /** The wait, or null when none is asked for or it is not a duration. */
    Duration waitDuration() {
      return waitSessions == null ? null : Durations.parse(waitSessions);
    }

    String target() {
      return backend + "/" + server;
    }
  }

  @Override
  public List<String> validate(Args a) {
    return problems(a, false);
  }

  /**
   * @param rendered the arguments are rendered: a template's syntax is no excuse any more
   */
  private static List<String> problems(Args a, boolean rendered) {
    Predicate<String> templated = s -> !rendered && Templates.isTemplate(s);
    List<String> problems = new ArrayList<>();
    // The names go into the runtime API's command line, where ';' or a space would start another
    // command.
    if (a.backend() == null || !named(a.backend(), rendered)) {
      problems.add(
          "'backend' must be an HAProxy backend name (letters, digits, - _ . :), got "
              + (a.backend() == null ? "nothing" : "'" + a.backend() + "'"));
    }
    if (a.server() == null || !named(a.server(), rendered)) {
      problems.add(
          "'server' must be an HAProxy server name (letters, digits, - _ . :), got "
              + (a.server() == null ? "nothing" : "'" + a.server() + "'"));
    }
    if (!templated.test(a.socket()) && (!a.socket().startsWith("/") || a.socket().contains(","))) {
      problems.add(
          "'socket' must be an absolute path without ',' (socat reads ',' as an option), got '"
              + a.socket()
              + "'");
    }
    if (a.state() != null && !templated.test(a.state()) && !STATES.contains(a.state())) {
      problems.add(
          "state '"
              + a.state()
              + "' is not one of ready, drain, maint (omit it to only read the state)");
    }
    if (a.waitSessions() != null) {
      if (templated.test(a.waitSessions()) || templated.test(a.state())) {
        // checked once rendered, when the step runs
      } else if (a.waitDuration() == null) {
        problems.add(
            "wait_sessions '" + a.waitSessions() + "' is not a duration such as 30 or 30s, 5m");
      } else if (!"drain".equals(a.state()) && !"maint".equals(a.state())) {
        problems.add(
            "wait_sessions goes with state drain or maint (a server that takes traffic keeps sessions)");
      }
    }
    return problems;
  }

  /**
   * A name fit for the command line, or a template (checked again once rendered, when the step
   * runs).
   */
  private static boolean named(String s, boolean rendered) {
    return s.matches(NAME) || (!rendered && Templates.isTemplate(s));
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) throws InterruptedException {
    List<String> problems = problems(a, true);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    HaproxyRuntime.Read before = HaproxyRuntime.read(ctx, a.socket(), a.backend(), a.server());
    if (before.problem() != null) return StepResult.failed(before.problem());
    HaproxyRuntime.Server was = before.server();
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("backend", a.backend());
    data.put("server", a.server());
    data.put("state", was.admin());
    if (a.state() == null)
      return StepResult.ok(describe(a.target(), was)).withData(describe(data, was));

    HaproxyRuntime.Server now = was;
    boolean changed = !was.admin().equals(a.state());
    if (changed) {
      // Journaled before the change: a controller that dies from here on leaves an undo that sets
      // the
      // previous state again, which is right whether or not HAProxy got the command.
      ctx.checkpoint(data);
      String refused = HaproxyRuntime.set(ctx, a.socket(), a.backend(), a.server(), a.state());
      if (refused != null) return StepResult.failed(refused).withData(describe(data, was));
      HaproxyRuntime.Read after = HaproxyRuntime.read(ctx, a.socket(), a.backend(), a.server());
      if (after.problem() != null) return putBack(a, ctx, was, after.problem());
      now = after.server();
    }
    if (a.waitDuration() != null) {
      Waited w = waitSessions(a, ctx, now);
      if (w.problem() != null)
        return changed ? putBack(a, ctx, was, w.problem()) : StepResult.failed(w.problem());
      now = w.server();
    }
    String message =
        (changed
                ? a.target() + ": " + was.admin() + " -> " + now.admin()
                : a.target() + " was already " + now.admin())
            + ", "
            + now.operational()
            + ", "
            + now.sessions()
            + " session(s)";
    return (changed ? StepResult.changed(message) : StepResult.ok(message))
        .withData(describe(data, now));
  }

  private record Waited(HaproxyRuntime.Server server, String problem) {}

  /** Polls until the server's current sessions are 0, or the wait is over. */
  private Waited waitSessions(Args a, StepContext ctx, HaproxyRuntime.Server now)
      throws InterruptedException {
    long deadline = System.nanoTime() + a.waitDuration().toNanos();
    HaproxyRuntime.Server s = now;
    while (s.sessions() > 0) {
      if (System.nanoTime() - deadline >= 0) {
        return new Waited(
            null,
            ctx.hostName()
                + ": "
                + a.target()
                + " still has "
                + s.sessions()
                + " session(s) after wait_sessions "
                + a.waitSessions());
      }
      Thread.sleep(
          Math.max(1, Math.min(poll.toMillis(), (deadline - System.nanoTime()) / 1_000_000 + 1)));
      HaproxyRuntime.Read r = HaproxyRuntime.read(ctx, a.socket(), a.backend(), a.server());
      if (r.problem() != null) return new Waited(null, r.problem());
      s = r.server();
    }
    return new Waited(s, null);
  }

  /**
   * The engine undoes completed steps only: a step that changed the state and then failed (its wait
   * ran out) sets the previous state again itself, so that no server stays out of the pool behind a
   * failure.
   */
  private static StepResult putBack(
      Args a, StepContext ctx, HaproxyRuntime.Server was, String problem) {
    String refused = HaproxyRuntime.set(ctx, a.socket(), a.backend(), a.server(), was.admin());
    return StepResult.failed(
        problem
            + (refused == null
                ? "; " + a.target() + " is back to " + was.admin()
                : "; and putting "
                    + a.target()
                    + " back to "
                    + was.admin()
                    + " failed too: "
                    + refused));
  }

  private static String describe(String target, HaproxyRuntime.Server s) {
    return target
        + " is "
        + s.admin()
        + ", "
        + s.operational()
        + ", "
        + s.sessions()
        + " session(s)";
  }

  private static Map<String, Object> describe(Map<String, Object> data, HaproxyRuntime.Server now) {
    Map<String, Object> d = new LinkedHashMap<>(data);
    d.put("new_state", now.admin());
    d.put("operational", now.operational());
    d.put("sessions", now.sessions());
    d.put("lb_status", now.status());
    return d;
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public boolean undoable(Args a) {
    return a.state() != null;
  }

  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    Object previous = result.data().get("state");
    if (!result.changed()
        || a.state() == null
        || !(previous instanceof String was)
        || !STATES.contains(was)) {
      return Optional.empty();
    }
    return Optional.of(
        new Undo() {
          @Override
          public String description() {
            return "set " + a.target() + " back to " + was;
          }

          @Override
          public StepResult run(StepContext ctx) {
            HaproxyRuntime.Read r = HaproxyRuntime.read(ctx, a.socket(), a.backend(), a.server());
            if (r.problem() != null) return StepResult.failed(r.problem());
            if (r.server().admin().equals(was))
              return StepResult.ok(a.target() + " is already " + was);
            String refused = HaproxyRuntime.set(ctx, a.socket(), a.backend(), a.server(), was);
            return refused == null
                ? StepResult.changed(a.target() + ": " + r.server().admin() + " -> " + was)
                : StepResult.failed(refused);
          }
        });
  }
}
