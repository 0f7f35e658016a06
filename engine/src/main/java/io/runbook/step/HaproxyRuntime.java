package io.runbook.step;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HAProxy's runtime API (the "stats socket" of haproxy.cfg), spoken on the host with {@code socat
 * stdio unix-connect:SOCKET}: the commands go on socat's standard input, in HAProxy's
 * non-interactive mode (one line, commands separated by ';', the answer of each ends with an empty
 * line). Reads use {@code show servers state} (the admin state bit field) and {@code show stat}
 * (the current sessions, scur); changes use {@code set server BACKEND/SERVER state
 * ready|drain|maint}.
 */
final class HaproxyRuntime {
  /**
   * srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited, configured, resolution
   * maintenance.
   */
  private static final int MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20;

  /** Forced and inherited drain. */
  private static final int DRAIN_BITS = 0x08 | 0x10;

  private static final String[] OP_STATES = {"DOWN", "STARTING", "UP", "STOPPING"};

  private HaproxyRuntime() {}

  /**
   * One server as HAProxy reports it.
   *
   * @param adminBits srv_admin_state of show servers state
   * @param opState srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping
   * @param sessions scur of show stat: the server's current sessions
   * @param status show stat's status column (UP, DOWN, DRAIN, MAINT, no check, ...)
   */
  record Server(
      String backend, String name, int adminBits, int opState, int sessions, String status) {
    /** The admin state in the words of {@code set server ... state}: maint, drain or ready. */
    String admin() {
      if ((adminBits & MAINT_BITS) != 0) return "maint";
      return (adminBits & DRAIN_BITS) != 0 ? "drain" : "ready";
    }

    String operational() {
      return opState >= 0 && opState < OP_STATES.length
          ? OP_STATES[opState]
          : "UNKNOWN(" + opState + ")";
    }
  }

  /** A server read from HAProxy, or why it could not be. */
  record Read(Server server, String problem) {}

  /** The shell command that connects stdin/stdout to the socket. */
  static String command(String socket) {
    return "socat stdio " + Shell.quote("unix-connect:" + socket);
  }

  /** The state of BACKEND/SERVER, in one round trip. */
  static Read read(StepContext ctx, String socket, String backend, String server) {
    Sent s = send(ctx, socket, "show servers state; show stat");
    if (s.problem() != null) return new Read(null, s.problem());
    return parse(s.output(), backend, server, ctx.hostName(), socket);
  }

  /** Sets the admin state; null when HAProxy accepted it, else what went wrong. */
  static String set(StepContext ctx, String socket, String backend, String server, String state) {
    Sent s = send(ctx, socket, "set server " + backend + "/" + server + " state " + state);
    if (s.problem() != null) return s.problem();
    // HAProxy answers a change it made with an empty line, anything else is its refusal.
    String answer = s.output().strip();
    if (answer.isEmpty()) return null;
    String why = answer.lines().findFirst().orElse(answer);
    return ctx.hostName()
        + ": HAProxy refused 'set server "
        + backend
        + "/"
        + server
        + " state "
        + state
        + "': "
        + why
        + (why.contains("Permission denied")
            ? " (the stats socket "
                + socket
                + " must be declared with 'level admin' in haproxy.cfg)"
            : "");
  }

  private record Sent(String output, String problem) {}

  private static Sent send(StepContext ctx, String socket, String commands) {
    ExecResult r =
        ctx.transport()
            .exec(
                ExecRequest.builder(command(socket))
                    .stdin((commands + "\n").getBytes(StandardCharsets.UTF_8))
                    .timeout(ctx.timeout())
                    .become(ctx.become())
                    .build());
    if (r.timedOut()) {
      return new Sent(
          null,
          ctx.hostName()
              + ": HAProxy's socket "
              + socket
              + " did not answer within "
              + r.duration().toSeconds()
              + " s");
    }
    if (r.exitCode() == 0) return new Sent(r.stdoutText(), null);
    String err = r.stderrText().strip();
    String last =
        err.isEmpty() ? "exit code " + r.exitCode() : err.substring(err.lastIndexOf('\n') + 1);
    if (r.exitCode() == 127
        || err.contains("socat: not found")
        || err.contains("socat: command not found")) {
      return new Sent(
          null,
          ctx.hostName()
              + ": socat is not installed; the haproxy step talks to HAProxy's "
              + "socket with it (Debian: apt-get install socat)");
    }
    if (err.contains("No such file or directory") || err.contains("Connection refused")) {
      return new Sent(
          null,
          ctx.hostName()
              + ": no HAProxy listening on the socket "
              + socket
              + " (is haproxy running, with 'stats socket "
              + socket
              + " level admin' in haproxy.cfg?): "
              + last);
    }
    if (err.contains("Permission denied")) {
      return new Sent(
          null,
          ctx.hostName()
              + ": cannot open HAProxy's socket "
              + socket
              + ": permission denied (run the step with become: true, or give the socket a mode/group that allows it)");
    }
    return new Sent(null, ctx.hostName() + ": socat to " + socket + " failed: " + last);
  }

  /**
   * Finds BACKEND/SERVER in the answer to "show servers state; show stat". Columns are found by
   * their header names, which HAProxy keeps stable while it appends new ones.
   */
  static Read parse(String output, String backend, String server, String host, String socket) {
    Map<String, List<String>> servers = new LinkedHashMap<>();
    Integer admin = null;
    Integer op = null;
    Integer sessions = null;
    String status = null;
    Map<String, Integer> stateCols = null;
    Map<String, Integer> statCols = null;
    for (String line : output.lines().toList()) {
      line = line.strip();
      if (line.startsWith("# be_id ")) {
        stateCols = columns(line.substring(2).split(" "));
        statCols = null;
      } else if (line.startsWith("# pxname,")) {
        statCols = columns(line.substring(2).split(",", -1));
        stateCols = null;
      } else if (line.isEmpty() || line.startsWith("#")) {
        // a blank line or another comment: nothing to read
      } else if (stateCols != null) {
        String[] f = line.split(" ");
        String be = field(f, stateCols, "be_name");
        String srv = field(f, stateCols, "srv_name");
        if (be == null || srv == null) continue;
        servers.computeIfAbsent(be, k -> new ArrayList<>()).add(srv);
        if (be.equals(backend) && srv.equals(server)) {
          admin = integer(field(f, stateCols, "srv_admin_state"));
          op = integer(field(f, stateCols, "srv_op_state"));
        }
      } else if (statCols != null) {
        String[] f = line.split(",", -1);
        if (backend.equals(field(f, statCols, "pxname"))
            && server.equals(field(f, statCols, "svname"))) {
          sessions = integer(field(f, statCols, "scur"));
          status = field(f, statCols, "status");
        }
      }
    }
    if (!servers.containsKey(backend)) {
      return new Read(
          null,
          host
              + ": HAProxy (socket "
              + socket
              + ") has no backend '"
              + backend
              + "' with servers"
              + (servers.isEmpty()
                  ? ""
                  : "; its backends: " + String.join(", ", servers.keySet())));
    }
    if (!servers.get(backend).contains(server)) {
      return new Read(
          null,
          host
              + ": HAProxy backend '"
              + backend
              + "' has no server '"
              + server
              + "'; its servers: "
              + String.join(", ", servers.get(backend)));
    }
    if (admin == null || op == null || sessions == null) {
      return new Read(
          null,
          host
              + ": cannot read the state of "
              + backend
              + "/"
              + server
              + " from HAProxy's answer"
              + " to 'show servers state; show stat' (srv_admin_state, srv_op_state, scur)");
    }
    return new Read(new Server(backend, server, admin, op, sessions, status), null);
  }

  private static Map<String, Integer> columns(String[] names) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) m.putIfAbsent(names[i], i);
    return m;
  }

  private static String field(String[] f, Map<String, Integer> cols, String name) {
    Integer i = cols.get(name);
    return i == null || i >= f.length ? null : f[i];
  }

  private static Integer integer(String s) {
    if (s == null || s.isEmpty()) return null;
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
