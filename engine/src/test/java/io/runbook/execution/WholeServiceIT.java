package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Fleet;
import io.runbook.testing.LocalPostgres;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import io.runbook.testing.TestKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service of the seed's second guide on real parts: three instances of the sample (1.2.3)
 * on OpenSSH hosts behind a real HAProxy (runtime API socket), sharing one real PostgreSQL 15, all
 * containers of {@code runbook-test/service:current} on one Docker network. {@code runbook apply
 * runbooks/upgrade-fleet-v2.yaml} runs in its own process (so that it can be killed with SIGKILL)
 * while a bounded load generator sends 20 requests/s through HAProxy's published frontend: during a
 * rolling upgrade no request may fail. One set of containers serves every case; {@link #reset()}
 * puts the fleet back on 1.2.3 and the database back to its seeded state before each.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WholeServiceIT {
  static final String IMAGE = SshHost.SERVICE_IMAGE;
  static final String RUNBOOK = "upgrade-fleet-v2.yaml";
  static final String APP = "/srv/sampled";
  static final int PORT = 8080;
  static final String DB_PASSWORD = "fleet-Db-Secret-42";
  static final String DB_URL = "postgresql://sampled:" + DB_PASSWORD + "@db1:5432/sampled";
  static final List<String> APPS = List.of("app1", "app2", "app3");
  static final Path REPO = SampleRuns.REPO;

  // One fleet, started in parallel: the machine is slow and each container waits for its sshd.
  @RegisterExtension
  static final Fleet fleet =
      Fleet.builder()
          .names(Stream.concat(APPS.stream(), Stream.of("db1", "lb1")).toList())
          .image(IMAGE)
          .network()
          .publish("lb1", 80)
          .fixture();

  static final List<SshHost> apps = new ArrayList<>();
  static SshHost db;
  static SshHost lb;
  static String seededDump;

  @TempDir Path tmp;

  @BeforeAll
  static void startTheService() throws Exception {
    for (String name : APPS) apps.add(fleet.host(name));
    db = fleet.host("db1");
    lb = fleet.host("lb1");
    db.exec(
        "bash",
        "-c",
        """
        set -e
        echo "listen_addresses = '*'" >> /etc/postgresql/15/main/postgresql.conf
        echo "fsync = off" >> /etc/postgresql/15/main/postgresql.conf
        echo "host all all 0.0.0.0/0 scram-sha-256" >> /etc/postgresql/15/main/pg_hba.conf
        pg_ctlcluster 15 main start
        runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "CREATE ROLE sampled LOGIN PASSWORD '%s'" \
          -c "CREATE DATABASE sampled OWNER sampled"
        """
            .formatted(DB_PASSWORD));
    Path releases = REPO.resolve("samples/releases/1.2.3");
    for (SshHost h : apps) {
      h.copyIn(releases, "/tmp/release-1.2.3");
      h.exec(
          "bash",
          "-c",
          """
          set -e
          install -d -o runbook -g runbook %1$s %1$s/releases %1$s/config %1$s/data
          cp -r /tmp/release-1.2.3 %1$s/releases/1.2.3 && ln -sfn releases/1.2.3 %1$s/current
          cat > %1$s/config/config.json.seeded <<'EOF'
          {"server": {"host": "0.0.0.0", "port": %2$d}, "database": {"path": "%3$s"},
           "services": {"queue": {"data_dir": "%1$s/data/queue"}}, "auth": {"session_secret": "fleet-session-secret-0123456789"}}
          EOF
          cp %1$s/config/config.json.seeded %1$s/config/config.json && chmod 600 %1$s/config/config.json*
          chown -R runbook:runbook %1$s
          """
              .formatted(APP, PORT, DB_URL));
    }
    asRunbook(
        apps.get(0),
        "python3 "
            + APP
            + "/current/sampled.py migrate --db '"
            + DB_URL
            + "'"
            + " && python3 "
            + APP
            + "/current/sampled.py seed --db '"
            + DB_URL
            + "'");
    db.exec(
        "bash",
        "-c",
        "runuser -u postgres -- pg_dump -Fc -f /var/lib/postgresql/seeded.dump sampled");
    seededDump = dump();

    lb.exec(
        "bash",
        "-c",
        """
        set -e
        usermod -aG haproxy runbook
        cat > /etc/haproxy/haproxy.cfg <<'EOF'
        global
          stats socket /run/haproxy/admin.sock mode 660 level admin user haproxy group haproxy
        defaults
          mode http
          timeout connect 2s
          timeout client 30s
          timeout server 30s
          timeout check 5s
        frontend www
          bind *:80
          default_backend app
        backend app
          option httpchk GET /_health
          http-check expect status 200
          default-server inter 1s fall 3 rise 2
          server app1 app1:%1$d check
          server app2 app2:%1$d check
          server app3 app3:%1$d check
        EOF
        haproxy -c -q -f /etc/haproxy/haproxy.cfg
        haproxy -D -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid
        """
            .formatted(PORT));
  }

  @BeforeEach
  void reset() throws Exception {
    for (SshHost h : apps) {
      h.exec(
          "bash",
          "-c",
          """
          [ ! -x %1$s/current/sampledctl ] || %1$s/current/sampledctl stop %1$s >/dev/null
          rm -rf %1$s/releases/2.0.0 %1$s/config/config.json.next %1$s/config/config.json.before-* /home/runbook/.local
          ln -sfn releases/1.2.3 %1$s/current && cp -p %1$s/config/config.json.seeded %1$s/config/config.json
          chown -h runbook:runbook %1$s/current %1$s/config/config.json
          rm -rf /var/tmp/runbook.lock*
          """
              .formatted(APP));
    }
    db.exec(
        "bash",
        "-c",
        """
        set -e
        rm -rf /var/tmp/runbook.lock* /var/backups/sampled
        runuser -u postgres -- dropdb --force sampled
        runuser -u postgres -- createdb -O sampled sampled
        runuser -u postgres -- pg_restore -d sampled /var/lib/postgresql/seeded.dump
        """);
    lb.exec("bash", "-c", "rm -rf /var/tmp/runbook.lock*");
    assertThat(dump()).as("the database is back to its seeded state").isEqualTo(seededDump);
    for (SshHost h : apps) asRunbook(h, APP + "/current/sampledctl start " + APP + " >/dev/null");
    for (String s : APPS) lbCommand("set server app/" + s + " state ready");
    awaitAllUp();
  }

  @Test
  @Order(1)
  void aCleanRollingUpgradeLosesNoRequestAndRollbackRunIdRestoresTheDatabaseOnce()
      throws Exception {
    Controller run;
    Load.Figures load;
    try (Load l = Load.start(frontend())) {
      run = apply("rollback-host", null);
      load = l.finish();
    }
    assertThat(run.exit).as(run.output).isZero();
    System.out.println("WholeServiceIT (a) clean upgrade: " + load);
    assertThat(load.failed).as(load.toString()).isZero();
    assertThat(load.sent).as("the load ran the whole upgrade").isGreaterThan(20);
    for (SshHost h : apps) assertThat(version(h)).as(h.name()).isEqualTo("2.0.0");
    assertThat(migrations()).isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    assertThat(count(run.output, "Apply the 2.0.0 migrations"))
        .as("migrated once")
        .isGreaterThanOrEqualTo(1);
    assertThat(run.output).doesNotContain(DB_PASSWORD);

    // The downgrade: every instance back on 1.2.3, then the database restored once from the dump.
    Controller back = cli("rollback", run.runId());
    assertThat(back.exit).as("exit 2: hosts were rolled back; " + back.output).isEqualTo(2);
    assertThat(back.output).contains("Restore sampled from the dump (once)");
    for (SshHost h : apps) assertThat(version(h)).as(h.name()).isEqualTo("1.2.3");
    assertThat(dump())
        .as("pg_dump after the rollback equals pg_dump before the run")
        .isEqualTo(seededDump);
    assertAllReadyInHaproxy();
  }

  @Test
  @Order(2)
  void aFailureOnTheSecondInstanceRollsBackOnlyItUnderRollbackHost() throws Exception {
    failToStart(apps.get(1));
    Controller run;
    Load.Figures load;
    try (Load l = Load.start(frontend())) {
      run = apply("rollback-host", null);
      load = l.finish();
    }
    System.out.println("WholeServiceIT (b) failure on app2, rollback-host: " + load);
    assertThat(run.exit).as(run.output).isEqualTo(2);
    assertThat(load.failed).as(load.toString()).isZero();
    assertThat(version(apps.get(0))).as("app1 stays upgraded").isEqualTo("2.0.0");
    assertThat(version(apps.get(1))).as("app2 rolled back").isEqualTo("1.2.3");
    assertThat(version(apps.get(2))).as("app3 never touched").isEqualTo("1.2.3");
    assertThat(migrations())
        .as("the shared migration is kept while app1 serves 2.0.0")
        .isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    assertAllReadyInHaproxy();
  }

  @Test
  @Order(3)
  void rollbackFleetPutsEveryInstanceBackThenRestoresTheDatabaseOnce() throws Exception {
    failToStart(apps.get(1));
    Controller run;
    Load.Figures load;
    try (Load l = Load.start(frontend())) {
      run = apply("rollback-fleet", null);
      load = l.finish();
    }
    // Printed, not asserted: the restore replaces the tables under the 1.2.3 servers' reads.
    System.out.println("WholeServiceIT (c) failure on app2, rollback-fleet: " + load);
    assertThat(run.exit).as(run.output).isEqualTo(2);
    for (SshHost h : apps) assertThat(version(h)).as(h.name()).isEqualTo("1.2.3");
    assertThat(dump())
        .as("pg_dump after the rollback equals pg_dump before the run")
        .isEqualTo(seededDump);
    assertAllReadyInHaproxy();
  }

  @Test
  @Order(4)
  void resumeAfterSigkillInTheRunOnceMigrationEndsUpgradedOrRolledBack() throws Exception {
    // The migration waits on a lock held from outside, so that the controller dies inside it.
    db.exec(
        "bash",
        "-c",
        "setsid runuser -u postgres -- psql -q -d sampled -c 'BEGIN; LOCK TABLE messages IN SHARE MODE;"
            + " SELECT pg_sleep(5); COMMIT;' >/dev/null 2>&1 < /dev/null &");
    Controller killed = apply("rollback-host", line -> line.contains("Apply the 2.0.0 migrations"));
    assertThat(killed.killed).as(killed.output).isTrue();
    Thread.sleep(
        5000); // the lock is gone; the orphaned migration's session ended without its COMMIT
    Controller resumed = cli("resume", killed.runId());
    assertOneOfTheEndStates(resumed);
  }

  @Test
  @Order(5)
  void resumeAfterSigkillInTheMiddleOfTheSecondInstanceEndsUpgradedOrRolledBack() throws Exception {
    Controller killed =
        apply(
            "rollback-host",
            line -> line.contains("app2") && line.contains("Point 'current' at 2.0.0"));
    assertThat(killed.killed).as(killed.output).isTrue();
    Controller resumed = cli("resume", killed.runId());
    assertOneOfTheEndStates(resumed);
  }

  // --- checks
  // ------------------------------------------------------------------------------------------

  /**
   * The run ended in one of the states a run without a kill ends in — upgraded (all on 2.0.0 with
   * the migration), the rollback-host state of case (b) (instances before the failed one on 2.0.0,
   * the rest on 1.2.3, the migration kept) or the rolled-back state (all on 1.2.3, the database as
   * seeded) — with every server ready and UP in HAProxy: never a mix such as a restored database
   * under a 2.0.0 server.
   */
  private void assertOneOfTheEndStates(Controller resumed) throws Exception {
    List<String> versions = apps.stream().map(WholeServiceIT::version).toList();
    System.out.println(
        "WholeServiceIT resume ended with exit " + resumed.exit + ", versions " + versions);
    if (versions.equals(List.of("2.0.0", "2.0.0", "2.0.0"))) {
      assertThat(resumed.exit).as(resumed.output).isZero();
      assertThat(migrations()).isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    } else if (versions.equals(List.of("2.0.0", "1.2.3", "1.2.3"))) {
      assertThat(resumed.exit).as(resumed.output).isEqualTo(2);
      assertThat(migrations())
          .as("kept while app1 serves 2.0.0")
          .isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
      assertThat(resumed.output).contains("before_all kept");
    } else {
      assertThat(versions).as(resumed.output).containsOnly("1.2.3");
      assertThat(dump()).as("all back on 1.2.3: the database restored").isEqualTo(seededDump);
    }
    assertAllReadyInHaproxy();
  }

  private static String version(SshHost h) {
    String out = h.exec("sh", "-c", "curl -sf http://127.0.0.1:" + PORT + "/_health || echo down");
    if (out.contains("\"version\": \"2.0.0\"")) return "2.0.0";
    if (out.contains("\"version\": \"1.2.3\"")) return "1.2.3";
    return "down: " + out.strip();
  }

  private static String migrations() {
    return db.exec(
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-X",
            "-A",
            "-t",
            "-d",
            "sampled",
            "-c",
            "SELECT string_agg(version, ',' ORDER BY version) FROM migrations")
        .strip();
  }

  private static String dump() {
    return LocalPostgres.withoutRestrictKeys(
        db.exec("runuser", "-u", "postgres", "--", "pg_dump", "sampled"));
  }

  /** The seeded state's every server back in HAProxy: ready (admin) and UP. */
  private static void assertAllReadyInHaproxy() throws Exception {
    awaitAllUp();
    String state = lbCommand("show servers state app");
    for (String s : APPS) {
      assertThat(
              state
                  .lines()
                  .filter(l -> l.contains(" " + s + " "))
                  .findFirst()
                  .orElseThrow()
                  .split("\\s+", -1)[6])
          .as(s + " srv_admin_state 0 (ready): " + state)
          .isEqualTo("0");
    }
  }

  private static void awaitAllUp() {
    String[] stat = {""};
    Await.until(
        Duration.ofSeconds(30),
        () -> "not every server UP in HAProxy: " + stat[0],
        () -> {
          stat[0] = lbCommand("show stat");
          long up =
              stat[0]
                  .lines()
                  .filter(l -> l.startsWith("app,app"))
                  .filter(l -> l.split(",", -1)[17].equals("UP"))
                  .count();
          return up == APPS.size();
        });
  }

  private static String lbCommand(String command) {
    return lb.exec("bash", "-c", "echo '" + command + "' | socat stdio /run/haproxy/admin.sock");
  }

  /**
   * Makes 2.0.0 refuse to start on the host (and only 2.0.0): a python usercustomize of the login
   * user.
   */
  private static void failToStart(SshHost h) {
    asRunbook(
        h,
        """
        d=$(python3 -c 'import site; print(site.getusersitepackages())') && mkdir -p "$d" && cat > "$d/usercustomize.py" <<'EOF'
        import os, sys
        if "/releases/2.0.0/" in os.path.realpath(sys.argv[0]) and sys.argv[1:2] == ["serve"]:
            sys.exit("injected by WholeServiceIT: 2.0.0 does not start on this host")
        EOF
        """);
  }

  private static String asRunbook(SshHost h, String script) {
    return h.exec("runuser", "-u", "runbook", "--", "bash", "-c", script);
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
    return n;
  }

  private static URI frontend() {
    return URI.create("http://127.0.0.1:" + lb.mappedPort(80) + "/api/messages");
  }

  // --- the controller, in its own process
  // ---------------------------------------------------------------

  record Controller(int exit, String output, boolean killed, Path state) {
    String runId() throws Exception {
      try (Stream<Path> runs = Files.list(state.resolve("runs"))) {
        return runs.map(p -> p.getFileName().toString()).sorted().reduce((a, b) -> b).orElseThrow();
      }
    }
  }

  private Path inventory() throws Exception {
    StringBuilder y =
        new StringBuilder(
            """
        all:
          vars:
            ansible_user: runbook
            ansible_ssh_private_key_file: %s
            app_dir: %s
            port: %d
            listen: 0.0.0.0
            db_name: sampled
            db_url: "%s"
            lb_host: lb1
            lb_backend: app
            sudo_mode_secret: fleet-sudo-secret-0123456789
            connection_initiation_secret: fleet-connection-secret-0123456789
          children:
        """
                .formatted(TestKeys.shared().privateKey(), APP, PORT, DB_URL));
    group(y, "app", apps);
    group(y, "db", List.of(db));
    group(y, "lb", List.of(lb));
    Path file = tmp.resolve("inventory.yaml");
    Files.writeString(file, y);
    StringBuilder known = new StringBuilder();
    for (SshHost h : Stream.concat(apps.stream(), Stream.of(db, lb)).toList())
      known.append(h.knownHostsLine()).append('\n');
    Files.writeString(tmp.resolve("known_hosts"), known);
    return file;
  }

  private static void group(StringBuilder y, String name, List<SshHost> hosts) {
    y.append("    ").append(name).append(":\n      hosts:\n");
    for (SshHost h : hosts) {
      y.append("        ")
          .append(h.name())
          .append(": {ansible_host: ")
          .append(h.host())
          .append(", ansible_port: ")
          .append(h.port())
          .append("}\n");
    }
  }

  private Controller apply(String policy, Predicate<String> killAtJournalLine) throws Exception {
    Path state = tmp.resolve("state");
    return controller(
        List.of(
            "apply",
            REPO.resolve("runbooks").resolve(RUNBOOK).toString(),
            "-i",
            inventory().toString(),
            "--on-failure",
            policy),
        state,
        killAtJournalLine);
  }

  private Controller cli(String command, String runId) throws Exception {
    return controller(List.of(command, runId, "--orphan-wait", "10"), tmp.resolve("state"), null);
  }

  private Controller controller(List<String> args, Path state, Predicate<String> killAt)
      throws Exception {
    List<String> command = new ArrayList<>(args);
    command.addAll(
        List.of(
            "--yes",
            "--known-hosts",
            tmp.resolve("known_hosts").toString(),
            "--state-dir",
            state.toString()));
    Path log = Files.createTempFile(tmp, "controller", ".log");
    Process p = Cli.child(log, command).start();
    Await.within(
        Duration.ofMinutes(3),
        () -> !p.isAlive() || (killAt != null && journal(state).stream().anyMatch(killAt)));
    boolean killed = false;
    if (p.isAlive() && killAt != null && journal(state).stream().anyMatch(killAt)) {
      p.destroyForcibly().waitFor(); // SIGKILL
      killed = true;
    }
    if (!p.waitFor(5, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "the controller ran for more than 3 minutes: " + Files.readString(log));
    }
    return new Controller(
        p.exitValue(), Files.readString(log, StandardCharsets.UTF_8), killed, state);
  }

  private static List<String> journal(Path state) throws Exception {
    Path runs = state.resolve("runs");
    if (!Files.isDirectory(runs)) return List.of();
    List<String> lines = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(runs)) {
      for (Path d : dirs.toList()) {
        Path j = d.resolve("journal.jsonl");
        if (Files.exists(j)) lines.addAll(Files.readAllLines(j));
      }
    }
    return lines;
  }

  // --- the load
  // ------------------------------------------------------------------------------------------

  /**
   * 20 requests/s through HAProxy until {@link #finish()}, at most 4 minutes and {@value #MAX}
   * requests; a request fails on any status but 200, a connection error, or no answer within 5 s.
   */
  static final class Load implements AutoCloseable {
    static final int MAX = 20 * 240;
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    final HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    final AtomicInteger sent = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());

    record Figures(int sent, int failed, List<String> firstFailures) {
      @Override
      public String toString() {
        return sent
            + " requests, "
            + failed
            + " failed"
            + (firstFailures.isEmpty() ? "" : " " + firstFailures);
      }
    }

    static Load start(URI uri) {
      Load l = new Load();
      HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build();
      var unused =
          l.timer.scheduleAtFixedRate(
              () -> {
                if (l.sent.get() >= MAX) return;
                l.sent.incrementAndGet();
                var unusedResponse =
                    l.client
                        .sendAsync(request, HttpResponse.BodyHandlers.ofString())
                        .whenComplete(
                            (r, e) -> {
                              if (e != null || r.statusCode() != 200) {
                                l.failed.incrementAndGet();
                                if (l.failures.size() < 5)
                                  l.failures.add(
                                      e != null
                                          ? e.toString()
                                          : r.statusCode() + " " + r.body().strip());
                              }
                              l.done.incrementAndGet();
                            });
              },
              0,
              50,
              TimeUnit.MILLISECONDS);
      return l;
    }

    Figures finish() throws InterruptedException {
      timer.shutdownNow();
      // what has not come back by then counts as lost
      Await.within(Duration.ofSeconds(10), () -> done.get() >= sent.get());
      int lost = sent.get() - done.get();
      return new Figures(sent.get(), failed.get() + lost, List.copyOf(failures));
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }
}
