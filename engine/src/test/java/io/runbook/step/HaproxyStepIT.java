package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SshHost;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The haproxy step on a real HAProxy 2.6 (Debian bookworm, image runbook-test/service) reached over
 * SSH: backend 'app' (mode tcp) with web1 and web2, two python3 http.servers, the admin socket mode
 * 600 (root), so the steps use become. Every state is checked by asking HAProxy itself with socat
 * through docker exec, never by trusting the step's output.
 */
class HaproxyStepIT {
  private static final String SOCKET = "/run/haproxy/admin.sock";
  private static final String CONFIG =
      """
      global
        stats socket /run/haproxy/admin.sock mode 600 level admin
        pidfile /run/haproxy/haproxy.pid
      defaults
        mode tcp
        timeout connect 2s
        timeout client 10m
        timeout server 10m
      frontend fe
        bind 127.0.0.1:8000
        default_backend app
      backend app
        balance roundrobin
        server web1 127.0.0.1:8001 check inter 1s
        server web2 127.0.0.1:8002 check inter 1s
      """;

  /**
   * Opens one connection through HAProxy and holds it until killed: a long-lived session on a
   * server.
   */
  private static final String HOLD =
      """
      import socket, time
      s = socket.create_connection(('127.0.0.1', 8000))
      time.sleep(600)
      """;

  static SshHost lb;
  @TempDir Path tmp;

  @BeforeAll
  static void startHaproxy() {
    lb = SshHost.startService("lb");
    lb.exec(
        "sh",
        "-c",
        "printf '%s' \"$1\" > /etc/haproxy/test.cfg && printf '%s' \"$2\" > /tmp/hold.py",
        "sh",
        CONFIG,
        HOLD);
    for (int port : List.of(8001, 8002)) {
      lb.exec(
          "sh",
          "-c",
          "cd /tmp && setsid runuser -u runbook -- python3 -m http.server "
              + port
              + " >/dev/null 2>&1 </dev/null &");
    }
    lb.exec("haproxy", "-D", "-f", "/etc/haproxy/test.cfg");
  }

  @AfterAll
  static void stop() {
    if (lb != null) lb.close();
  }

  @BeforeEach
  void everyServerReadyAndNoSession() throws Exception {
    lb.exec("sh", "-c", "pkill -f '[/]tmp/hold.py'; true");
    for (String s : List.of("web1", "web2")) socat("set server app/" + s + " state ready");
    waitFor(() -> sessions("web1") == 0 && sessions("web2") == 0, "no session left");
  }

  @Test
  void drainMaintReadyAndReadingChangeHaproxyAndOnlyWhenNeeded() throws Exception {
    Run drain =
        apply(
            """
        - name: Drain web1
          become: true
          haproxy: {backend: app, server: web1, state: drain}
          register: d
        - name: Web2 to maintenance
          become: true
          haproxy: {socket: %s, backend: app, server: web2, state: maint}
        - name: Read web2
          become: true
          haproxy: {backend: app, server: web2}
          register: r
        - name: Keep what was registered
          shell: echo "[=d.state] [=d.new_state] [=d.changed?c] [=r.state] [=r.operational] [=r.sessions]" > /tmp/registered
        """
                .formatted(SOCKET));
    assertThat(drain.code()).as(drain.out()).isZero();
    assertThat(adminState("web1")).isEqualTo(0x08); // SRV_ADMF_FDRAIN
    assertThat(adminState("web2")).isEqualTo(0x01); // SRV_ADMF_FMAINT
    assertThat(lb.readFile("/tmp/registered").strip()).isEqualTo("ready drain true maint DOWN 0");

    // Again: HAProxy already has these states, so nothing changes (and no undo is recorded).
    Run again =
        apply(
            """
        - name: Drain web1 again
          become: true
          haproxy: {backend: app, server: web1, state: drain}
          register: d
        - name: Keep whether it changed
          shell: echo "[=d.changed?c] [=d.msg]" > /tmp/registered
        """);
    assertThat(again.code()).as(again.out()).isZero();
    assertThat(lb.readFile("/tmp/registered").strip())
        .isEqualTo("false app/web1 was already drain, UP, 0 session(s)");

    Run ready =
        apply(
            """
        - name: Web1 back
          become: true
          haproxy: {backend: app, server: web1, state: ready}
        - name: Web2 back
          become: true
          haproxy: {backend: app, server: web2, state: ready}
        """);
    assertThat(ready.code()).as(ready.out()).isZero();
    assertThat(adminState("web1")).isZero();
    assertThat(adminState("web2")).isZero();
  }

  @Test
  void waitSessionsWaitsForARealConnectionToClose() throws Exception {
    holdAConnectionOn("web1");
    CompletableFuture<Run> run =
        CompletableFuture.supplyAsync(
            () ->
                apply(
                    """
        - name: Drain web1 until its sessions end
          become: true
          haproxy: {backend: app, server: web1, state: drain, wait_sessions: 60s}
          register: d
        - name: Keep the sessions seen at the end
          shell: echo "[=d.sessions] [=d.new_state]" > /tmp/registered
        """));
    // The step drained web1 and now waits: the held connection keeps it busy, and the run with it.
    waitFor(() -> adminState("web1") == 0x08 || run.isDone(), "web1 drained by the step");
    assertThat(run.isDone()).as(() -> "the run ended early:\n" + run.join().out()).isFalse();
    Thread.sleep(3000); // the time is the scenario: a while later the step must still wait
    assertThat(run).as("still waiting for the session").isNotDone();
    assertThat(sessions("web1")).isEqualTo(1);
    lb.exec("pkill", "-f", "/tmp/hold.py");
    Run r = run.get(60, TimeUnit.SECONDS);
    assertThat(r.code()).as(r.out()).isZero();
    assertThat(lb.readFile("/tmp/registered").strip()).isEqualTo("0 drain");
    assertThat(sessions("web1")).isZero();
    assertThat(adminState("web1")).isEqualTo(0x08);
  }

  @Test
  void waitSessionsThatRunsOutFailsAndPutsTheServerBack() throws Exception {
    holdAConnectionOn("web1");
    Run r =
        apply(
            """
        - name: Drain web1, 2 s at most
          become: true
          haproxy: {backend: app, server: web1, state: drain, wait_sessions: 2s}
        """);
    assertThat(r.code()).as(r.out()).isEqualTo(2);
    assertThat(r.out())
        .contains(
            "app/web1 still has 1 session(s) after wait_sessions 2s; app/web1 is back to ready");
    assertThat(adminState("web1")).isZero();
    assertThat(sessions("web1")).as("the connection was left alone").isEqualTo(1);
  }

  @Test
  void theAutomaticUndoRestoresThePreviousStatesAfterALaterFailure() throws Exception {
    socat("set server app/web1 state maint"); // not 'ready': the undo must restore what was, not a
    // default
    Run r =
        apply(
            """
        - name: Web1 into the pool
          become: true
          haproxy: {backend: app, server: web1, state: ready}
        - name: Drain web2
          become: true
          haproxy: {backend: app, server: web2, state: drain}
        - name: Record HAProxy's states, then fail
          shell: echo 'show servers state app' | sudo socat stdio unix-connect:%s > /tmp/during; exit 3
        """
                .formatted(SOCKET));
    assertThat(r.code()).as(r.out()).isEqualTo(2);
    // while the run went on, the steps had changed HAProxy ...
    Map<String, Integer> during = adminStates(lb.readFile("/tmp/during"));
    assertThat(during).containsEntry("web1", 0).containsEntry("web2", 0x08);
    // ... and the rollback put each server back as it was: web1 in maintenance, web2 ready
    assertThat(adminState("web1")).isEqualTo(0x01);
    assertThat(adminState("web2")).isZero();
    assertThat(r.out())
        .contains("set app/web2 back to ready")
        .contains("set app/web1 back to maint");
  }

  @Test
  void aControllerKilledDuringTheStepLeavesAnUndoThatResumeRuns() throws Exception {
    holdAConnectionOn("web1");
    Path state = tmp.resolve("state");
    Path rb =
        runbook(
            """
        - name: Drain web1 until its sessions end
          become: true
          haproxy: {backend: app, server: web1, state: drain, wait_sessions: 5m}
        """);
    Path log = tmp.resolve("controller.log");
    Process p =
        Cli.child(
                log,
                List.of(
                    "apply",
                    rb.toString(),
                    "-i",
                    inventory().toString(),
                    "--yes",
                    "--known-hosts",
                    knownHosts().toString(),
                    "--state-dir",
                    state.toString()))
            .start();
    try {
      // the step is in flight: HAProxy drains web1 and the step waits for the held connection
      waitFor(() -> adminState("web1") == 0x08, "web1 drained by the step");
      Thread.sleep(500); // the time is the scenario: the controller keeps waiting in the step
      assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
    } finally {
      p.destroyForcibly().waitFor(); // SIGKILL
    }
    String id;
    try (var dirs = Files.list(state.resolve("runs"))) {
      id = dirs.findFirst().orElseThrow().getFileName().toString();
    }
    Run resumed =
        cli(
            "resume",
            id,
            "--known-hosts",
            knownHosts().toString(),
            "--state-dir",
            state.toString(),
            "--yes");
    assertThat(resumed.code()).as(resumed.out()).isEqualTo(2);
    assertThat(resumed.out()).contains("set app/web1 back to ready");
    assertThat(adminState("web1")).isZero();
  }

  @Test
  void unknownNamesAndAMissingBecomeFailClearly() throws Exception {
    Run unknown =
        apply(
            """
        - name: Drain web9
          become: true
          haproxy: {backend: app, server: web9, state: drain}
        """);
    assertThat(unknown.code()).as(unknown.out()).isEqualTo(2);
    assertThat(unknown.out())
        .contains("HAProxy backend 'app' has no server 'web9'; its servers: web1, web2");
    Run noBackend =
        apply(
            """
        - name: Drain api/web1
          become: true
          haproxy: {backend: api, server: web1, state: drain}
        """);
    assertThat(noBackend.out()).contains("has no backend 'api' with servers; its backends: app");
    Run noBecome =
        apply(
            """
        - name: Drain web1 as the login user
          haproxy: {backend: app, server: web1, state: drain}
        """);
    assertThat(noBecome.code()).isEqualTo(2);
    assertThat(noBecome.out())
        .contains("cannot open HAProxy's socket " + SOCKET + ": permission denied");
    assertThat(adminState("web1")).isZero();
  }

  // --- HAProxy as socat sees it, parsed here by the documented column positions
  // -------------------------

  private static String socat(String command) {
    return lb.exec("sh", "-c", "echo \"$1\" | socat stdio unix-connect:" + SOCKET, "sh", command);
  }

  /** srv_admin_state (7th column of show servers state) of each server of the answer. */
  private static Map<String, Integer> adminStates(String showServersState) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (String line : showServersState.lines().toList()) {
      String[] f = line.strip().split(" ", -1);
      if (f.length > 6 && f[0].matches("\\d+")) m.put(f[3], Integer.parseInt(f[6]));
    }
    return m;
  }

  private static int adminState(String server) {
    return adminStates(socat("show servers state app")).get(server);
  }

  private static String[] statRow(String server) {
    for (String line : socat("show stat").lines().toList()) {
      if (line.startsWith("app," + server + ",")) return line.split(",", -1);
    }
    throw new AssertionError("no show stat row for app/" + server);
  }

  /** scur, the 5th column of show stat. */
  private static int sessions(String server) {
    return Integer.parseInt(statRow(server)[4]);
  }

  /**
   * One connection through HAProxy held open on {@code server}: the other one is in maintenance
   * meanwhile.
   */
  private static void holdAConnectionOn(String server) throws Exception {
    String other = server.equals("web1") ? "web2" : "web1";
    socat("set server app/" + other + " state maint");
    lb.exec("sh", "-c", "setsid python3 /tmp/hold.py >/dev/null 2>&1 </dev/null &");
    waitFor(() -> sessions(server) == 1, "one session on " + server);
    socat("set server app/" + other + " state ready");
  }

  private static void waitFor(Await.Condition c, String what) {
    // a loaded machine: a run took 30 s to reach its step
    Await.until(Duration.ofMinutes(2), what, c);
  }

  // --- runs through the CLI
  // -----------------------------------------------------------------------------

  private Path knownHosts() throws IOException {
    return Files.writeString(tmp.resolve("known_hosts"), lb.knownHostsLine() + "\n");
  }

  private Path inventory() throws IOException {
    return Files.writeString(
        tmp.resolve("inv.yaml"),
        """
        all:
          hosts:
            lb: {ansible_host: %s, ansible_port: %d, ansible_user: %s, ansible_ssh_private_key_file: %s}
        """
            .formatted(lb.host(), lb.port(), lb.user(), lb.privateKey()));
  }

  private Path runbook(String deploySteps) throws IOException {
    String steps = deploySteps.indent(4);
    return Files.writeString(
        Files.createTempFile(tmp, "rb", ".yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: haproxy step
        hosts: all
        phases:
          deploy:
        """
            + steps);
  }

  private Run apply(String deploySteps) {
    try {
      Path state = Files.createTempDirectory(tmp, "state");
      return cli(
          "apply",
          runbook(deploySteps).toString(),
          "-i",
          inventory().toString(),
          "--yes",
          "--known-hosts",
          knownHosts().toString(),
          "--state-dir",
          state.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Run cli(String... args) {
    Run run = Cli.runMerged(args);
    System.out.println(run.out());
    return run;
  }
}
