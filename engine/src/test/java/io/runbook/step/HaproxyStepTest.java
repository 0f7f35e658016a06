package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The haproxy step's commands and its reading of HAProxy's answers, against canned answers in the
 * format HAProxy 2.6 (Debian bookworm) prints them; HaproxyStepIT drives a real HAProxy.
 */
class HaproxyStepTest {
  @TempDir Path dir;

  /**
   * Headers as HAProxy 2.6 prints them (show stat's is cut after the columns the step reads and a
   * few more).
   */
  static final String STATE_HEADER =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight"
          + " srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state"
          + " srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port"
          + " srv_check_addr srv_agent_addr srv_agent_port\n";

  static final String STAT_HEADER =
      "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
          + "wretr,wredis,status,weight,act,bck\n";

  /**
   * The answer to "show servers state; show stat" with web1 in the given admin/op state and
   * sessions.
   */
  static String answer(int web1Admin, int web1Op, int web1Sessions, String web1Status) {
    return STATE_HEADER
        + "3 app 1 web1 127.0.0.1 "
        + web1Op
        + " "
        + web1Admin
        + " 1 1 1 6 3 4 6 0 0 0 - 8001 - 0 0 - - 0\n"
        + "3 app 2 web2 127.0.0.1 2 0 1 1 1 6 3 4 6 0 0 0 - 8002 - 0 0 - - 0\n"
        + "4 other 1 o1 127.0.0.1 2 0 1 1 1 1 0 2 0 0 0 0 - 8003 - 0 0 - - 0\n"
        + "\n"
        + STAT_HEADER
        + "fe,FRONTEND,,,3,3,9984,7,0,0,0,0,0,,,,,OPEN,,,\n"
        + "app,web1,0,0,"
        + web1Sessions
        + ",4,,7,0,0,,0,,0,0,0,0,"
        + web1Status
        + ",1,1,0\n"
        + "app,web2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0\n"
        + "app,BACKEND,0,0,"
        + web1Sessions
        + ",4,999,7,0,0,0,0,,0,0,0,0,UP,1,1,0\n"
        + "other,o1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0\n\n";
  }

  static final String READY = answer(0, 2, 0, "UP");

  private final HaproxyStep step = new HaproxyStep(Duration.ofMillis(5));

  private HaproxyStep.Args args(String yaml) {
    return Bind.args(step, yaml);
  }

  private static String stdin(ExecRequest r) {
    return new String(r.stdin(), StandardCharsets.UTF_8);
  }

  @Test
  void readsTheStateWithOneSocatCallAndChangesNothing() throws Exception {
    RecordingTransport t = new RecordingTransport().answer(ok(answer(8, 2, 3, "DRAIN")));
    StepResult r = step.execute(args("{backend: app, server: web1}"), new FakeContext(t, dir));

    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(t.commands()).containsExactly("socat stdio unix-connect:/run/haproxy/admin.sock");
    assertThat(stdin(t.last())).isEqualTo("show servers state; show stat\n");
    assertThat(r.registered())
        .containsEntry("state", "drain")
        .containsEntry("new_state", "drain")
        .containsEntry("operational", "UP")
        .containsEntry("sessions", 3)
        .containsEntry("lb_status", "DRAIN");
    assertThat(r.message()).isEqualTo("app/web1 is drain, UP, 3 session(s)");
    assertThat(step.undo(args("{backend: app, server: web1}"), r)).isEmpty();
    assertThat(step.undoable(args("{backend: app, server: web1}"))).isFalse();
  }

  @Test
  void drainChecksPointsBeforeTheChangeThenSetsAndRereads() throws Exception {
    RecordingTransport t =
        new RecordingTransport().answer(ok(READY), ok("\n"), ok(answer(8, 2, 0, "DRAIN")));
    FakeContext ctx = new FakeContext(t, dir);
    ctx.become = Become.as("root");
    ctx.atCheckpoint = () -> Integer.toString(t.requests.size());
    HaproxyStep.Args a =
        args("{socket: /var/run/hap.sock, backend: app, server: web1, state: drain}");
    StepResult r = step.execute(a, ctx);

    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).isEqualTo("app/web1: ready -> drain, UP, 0 session(s)");
    assertThat(t.commands()).containsOnly("socat stdio unix-connect:/var/run/hap.sock");
    assertThat(t.requests)
        .extracting(HaproxyStepTest::stdin)
        .containsExactly(
            "show servers state; show stat\n",
            "set server app/web1 state drain\n",
            "show servers state; show stat\n");
    assertThat(t.requests).allSatisfy(req -> assertThat(req.become()).isEqualTo(Become.as("root")));
    // the undo state is journaled after the read, before the set
    assertThat(ctx.checkpoints)
        .singleElement()
        .satisfies(c -> assertThat(c).containsEntry("state", "ready"));
    assertThat(ctx.seenAtCheckpoint).containsExactly("1");
    assertThat(r.registered()).containsEntry("state", "ready").containsEntry("new_state", "drain");
    assertThat(step.undoable(a)).isTrue();
  }

  @Test
  void theUndoSetsThePreviousStateAndIsBuiltFromTheCheckpointAlone() throws Exception {
    HaproxyStep.Args a = args("{backend: app, server: web1, state: maint}");
    // what the engine hands the undo when the controller died during the step: the checkpoint as
    // data
    StepResult inFlight =
        StepResult.changed("in flight when the controller stopped")
            .withData(Map.of("backend", "app", "server", "web1", "state", "drain"));
    Step.Undo undo = step.undo(a, inFlight).orElseThrow();
    assertThat(undo.description()).isEqualTo("set app/web1 back to drain");

    RecordingTransport t = new RecordingTransport().answer(ok(answer(1, 0, 0, "MAINT")), ok("\n"));
    StepResult r = undo.run(new FakeContext(t, dir));
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(t.requests)
        .extracting(HaproxyStepTest::stdin)
        .containsExactly("show servers state; show stat\n", "set server app/web1 state drain\n");

    // the change never happened: the undo finds the server as it was and leaves it
    RecordingTransport t2 = new RecordingTransport().answer(ok(answer(8, 2, 0, "DRAIN")));
    assertThat(undo.run(new FakeContext(t2, dir)).status()).isEqualTo(Status.OK);
    assertThat(t2.requests).hasSize(1);
  }

  @Test
  void theSameStateAgainIsOkWithoutASetAndWithoutAnUndo() throws Exception {
    RecordingTransport t = new RecordingTransport().answer(ok(answer(1, 0, 0, "MAINT")));
    FakeContext ctx = new FakeContext(t, dir);
    HaproxyStep.Args a = args("{backend: app, server: web1, state: maint}");
    StepResult r = step.execute(a, ctx);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("app/web1 was already maint, DOWN, 0 session(s)");
    assertThat(t.requests).hasSize(1);
    assertThat(ctx.checkpoints).isEmpty();
    assertThat(step.undo(a, r)).isEmpty();
  }

  @Test
  void waitSessionsPollsUntilNoSessionIsLeft() throws Exception {
    RecordingTransport t =
        new RecordingTransport()
            .answer(
                ok(READY),
                ok("\n"),
                ok(answer(8, 2, 2, "DRAIN")),
                ok(answer(8, 2, 1, "DRAIN")),
                ok(answer(8, 2, 0, "DRAIN")));
    StepResult r =
        step.execute(
            args("{backend: app, server: web1, state: drain, wait_sessions: 5s}"),
            new FakeContext(t, dir));
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.registered()).containsEntry("sessions", 0);
    assertThat(t.requests).hasSize(5);
  }

  @Test
  void waitSessionsThatRunsOutFailsAndPutsTheServerBack() throws Exception {
    RecordingTransport t =
        new RecordingTransport()
            .answer(ok(READY), ok("\n"))
            .otherwise(
                req -> stdin(req).startsWith("set") ? ok("\n") : ok(answer(8, 2, 4, "DRAIN")));
    StepResult r =
        step.execute(
            args("{backend: app, server: web1, state: drain, wait_sessions: 200ms}"),
            new FakeContext(t, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "test: app/web1 still has 4 session(s) after wait_sessions 200ms; "
                + "app/web1 is back to ready");
    assertThat(stdin(t.last())).isEqualTo("set server app/web1 state ready\n");
  }

  @Test
  void anUnknownBackendOrServerFailsNamingWhatHaproxyHas() throws Exception {
    StepResult noBackend =
        step.execute(
            args("{backend: api, server: web1, state: drain}"),
            new FakeContext(new RecordingTransport().answer(ok(READY)), dir));
    assertThat(noBackend.failed()).isTrue();
    assertThat(noBackend.message())
        .isEqualTo(
            "test: HAProxy (socket /run/haproxy/admin.sock) has no backend 'api'"
                + " with servers; its backends: app, other");

    RecordingTransport t = new RecordingTransport().answer(ok(READY));
    StepResult noServer =
        step.execute(args("{backend: app, server: web3, state: drain}"), new FakeContext(t, dir));
    assertThat(noServer.message())
        .isEqualTo("test: HAProxy backend 'app' has no server 'web3'; its servers: web1, web2");
    assertThat(t.requests).hasSize(1);
  }

  @Test
  void hostProblemsAreNamed() throws Exception {
    HaproxyStep.Args a = args("{backend: app, server: web1, state: drain}");
    assertThat(run(a, result(127, "", "sh: 1: socat: not found\n")).message())
        .isEqualTo(
            "test: socat is not installed; the haproxy step talks to HAProxy's socket with it"
                + " (Debian: apt-get install socat)");
    assertThat(
            run(
                    a,
                    result(
                        1,
                        "",
                        "2026/12/07 00:31:43 socat[43] E connect(, AF=1 \"/run/haproxy/admin.sock\", 24):"
                            + " No such file or directory\n"))
                .message())
        .startsWith(
            "test: no HAProxy listening on the socket /run/haproxy/admin.sock (is haproxy running,");
    assertThat(
            run(
                    a,
                    result(
                        1,
                        "",
                        "socat[9] E connect(5, AF=1 \"/run/haproxy/admin.sock\", 26): Permission denied\n"))
                .message())
        .contains("permission denied (run the step with become: true");

    RecordingTransport t = new RecordingTransport().answer(ok(READY), ok("Permission denied\n\n"));
    StepResult r = step.execute(a, new FakeContext(t, dir));
    assertThat(r.message())
        .isEqualTo(
            "test: HAProxy refused 'set server app/web1 state drain': Permission denied"
                + " (the stats socket /run/haproxy/admin.sock must be declared with 'level admin' in haproxy.cfg)");
  }

  private StepResult run(HaproxyStep.Args a, ExecResult answer) throws Exception {
    return step.execute(a, new FakeContext(new RecordingTransport().answer(answer), dir));
  }

  @Test
  void validationKeepsCommandsOutOfTheNamesAndWaitsWithDrainOrMaintOnly() throws Exception {
    assertThat(step.validate(args("{backend: 'app;shutdown sessions', server: web1}")))
        .singleElement()
        .asString()
        .startsWith("'backend' must be an HAProxy backend name");
    assertThat(
            step.validate(args("{backend: app, server: web1, state: ready, wait_sessions: 10s}")))
        .containsExactly(
            "wait_sessions goes with state drain or maint (a server that takes traffic keeps sessions)");
    assertThat(step.validate(args("{backend: app, server: web1, state: disable}")))
        .singleElement()
        .asString()
        .startsWith("state 'disable' is not one of ready, drain, maint");
    assertThat(
            step.validate(args("{backend: app, server: web1, state: drain, wait_sessions: soon}")))
        .containsExactly("wait_sessions 'soon' is not a duration such as 30 or 30s, 5m");
    assertThat(step.validate(args("{backend: app, server: web1, state: drain, wait_sessions: 30}")))
        .isEmpty();
    assertThat(step.validate(args("{socket: run/admin.sock, backend: app, server: web1}")))
        .hasSize(1);
    // A template passes the plan-time check, but once rendered nothing but a name reaches the
    // socket.
    assertThat(step.validate(args("{backend: app, server: '[=inventory_hostname]'}"))).isEmpty();
    RecordingTransport t = new RecordingTransport();
    StepResult r =
        step.execute(
            args("{backend: app, server: 'web1[=x]; shutdown sessions'}"), new FakeContext(t, dir));
    assertThat(r.failed()).isTrue();
    assertThat(t.requests).isEmpty();
    assertThat(List.of(HaproxyRuntime.command("/run/h a.sock")))
        .containsExactly("socat stdio 'unix-connect:/run/h a.sock'");
  }
}
