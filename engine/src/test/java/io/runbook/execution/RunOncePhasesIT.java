package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * before_all on a "database" host over real OpenSSH, two targets rolled one at a time: the order of
 * forward and undo work, read from the hosts' own files (each line stamped with the shared kernel
 * clock), and a controller killed with SIGKILL inside before_all, then resumed.
 */
class RunOncePhasesIT {
  @RegisterExtension static final Fleet fleet = Fleet.of(3);
  static SshHost app1, app2, db;
  @TempDir Path tmp;
  Path inventory;
  Path state;

  @BeforeAll
  static void start() {
    app1 = fleet.host(0);
    app2 = fleet.host(1);
    db = fleet.host(2);
  }

  @BeforeEach
  void reset() throws Exception {
    for (SshHost h : fleet.hosts()) {
      h.exec(
          "sh",
          "-c",
          "rm -rf /tmp/rb /var/tmp/runbook.lock* && mkdir /tmp/rb && echo v1 > /tmp/rb/version"
              + " && echo v1 > /tmp/rb/schema && chown -R runbook /tmp/rb");
    }
    state = tmp.resolve("state");
    inventory = tmp.resolve("inv.yaml");
    StringBuilder inv =
        new StringBuilder(
            "all:\n  vars:\n    ansible_user: runbook\n    ansible_ssh_private_key_file: "
                + fleet.privateKey()
                + "\n  children:\n");
    inv.append("    app:\n      hosts:\n");
    for (SshHost h : List.of(app1, app2)) inv.append(host(h));
    inv.append("    dbs:\n      hosts:\n").append(host(db));
    Files.writeString(inventory, inv);
  }

  private static String host(SshHost h) {
    return "        "
        + h.name()
        + ": {ansible_host: "
        + h.host()
        + ", ansible_port: "
        + h.port()
        + "}\n";
  }

  /**
   * Each line of /tmp/rb/log: "<nanoseconds> <what>"; the migration sleeps so that it can be
   * killed.
   */
  Path runbook(String policy) throws Exception {
    Path rb = tmp.resolve("rb.yaml");
    Files.writeString(
        rb,
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: shared database
        hosts: app
        rollout: {serial: 1, on_failure: %s}
        before_all:
          on: dbs
          steps:
            - name: Dump the database
              shell: cp /tmp/rb/schema /tmp/rb/dump && echo "$(date +%%s%%N) dump" >> /tmp/rb/log
              rollback:
                - name: Restore the dump
                  shell: cp /tmp/rb/dump /tmp/rb/schema && echo "$(date +%%s%%N) restore" >> /tmp/rb/log
            - name: Migrate once
              shell: echo "$(date +%%s%%N) migrate" >> /tmp/rb/log && sleep [=migrate_seconds!0] && echo v2 > /tmp/rb/schema
              rollback:
                - name: Unmigrate
                  shell: echo "$(date +%%s%%N) unmigrate" >> /tmp/rb/log
        phases:
          deploy:
            - name: Switch [=inventory_hostname]
              shell: echo v2 > /tmp/rb/version && echo "$(date +%%s%%N) up" >> /tmp/rb/log && [ "[=fail!'']" != "[=inventory_hostname]" ]
              rollback:
                - name: Switch back
                  shell: echo v1 > /tmp/rb/version && echo "$(date +%%s%%N) down" >> /tmp/rb/log
        """
            .formatted(policy));
    return rb;
  }

  Run cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--yes",
            "--state-dir",
            state.toString(),
            "--known-hosts",
            fleet.knownHostsFile().toString()));
    return Cli.runMerged(all);
  }

  Run apply(String policy, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(List.of("apply", runbook(policy).toString(), "-i", inventory.toString()));
    args.addAll(List.of(more));
    return cli(args.toArray(String[]::new));
  }

  String runId() throws Exception {
    try (var d = Files.list(state.resolve("runs"))) {
      return d.findFirst().orElseThrow().getFileName().toString();
    }
  }

  static String read(SshHost h, String file) {
    return h.exec("cat", "/tmp/rb/" + file).strip();
  }

  /** The time of the first line of /tmp/rb/log that says {@code what}; -1 when none. */
  static long at(SshHost h, String what) {
    for (String line : h.exec("sh", "-c", "cat /tmp/rb/log 2>/dev/null || true").lines().toList()) {
      String[] parts = line.split(" ", 2);
      if (parts.length == 2 && parts[1].equals(what)) return Long.parseLong(parts[0]);
    }
    return -1;
  }

  static List<String> log(SshHost h) {
    return h.exec("sh", "-c", "cat /tmp/rb/log 2>/dev/null || true")
        .lines()
        .map(l -> l.split(" ", 2)[1])
        .toList();
  }

  @Test
  void beforeAllRunsOnceOnTheDatabaseBeforeBatchOneAndRollbackRunIdUndoesItLastOnce()
      throws Exception {
    Run run = apply("rollback-host");
    assertThat(run.code()).as(run.out()).isZero();
    assertThat(log(db)).containsExactly("dump", "migrate");
    assertThat(read(db, "schema")).isEqualTo("v2");
    assertThat(at(db, "migrate")).isLessThan(at(app1, "up")).isLessThan(at(app2, "up"));
    assertThat(log(app1)).containsExactly("up");

    Run back = cli("rollback", runId());
    assertThat(back.code()).as(back.out()).isEqualTo(2);
    assertThat(read(app1, "version")).isEqualTo("v1");
    assertThat(read(app2, "version")).isEqualTo("v1");
    assertThat(read(db, "schema")).isEqualTo("v1");
    assertThat(log(db)).containsExactly("dump", "migrate", "unmigrate", "restore");
    assertThat(at(db, "unmigrate")).isGreaterThan(at(app1, "down")).isGreaterThan(at(app2, "down"));

    Run again = cli("rollback", runId());
    assertThat(again.code()).as(again.out()).isZero();
    assertThat(again.out()).contains("Nothing to undo");
    assertThat(log(db)).hasSize(4);
    assertThat(log(app1)).containsExactly("up", "down");
  }

  @Test
  void rollbackFleetUndoesBeforeAllAfterEveryTarget() throws Exception {
    Run run = apply("rollback-fleet", "-e", "fail=" + app2.name());
    assertThat(run.code()).as(run.out()).isEqualTo(2);
    assertThat(read(app1, "version")).isEqualTo("v1");
    assertThat(read(db, "schema")).isEqualTo("v1");
    assertThat(log(db)).containsExactly("dump", "migrate", "unmigrate", "restore");
    assertThat(at(db, "unmigrate")).isGreaterThan(at(app1, "down"));
  }

  @Test
  void rollbackHostKeepsBeforeAllWhileAnUpgradedTargetServes() throws Exception {
    Run run = apply("rollback-host", "-e", "fail=" + app2.name());
    assertThat(run.code()).as(run.out()).isEqualTo(2);
    assertThat(read(app1, "version")).isEqualTo("v2");
    assertThat(read(db, "schema")).isEqualTo("v2");
    assertThat(log(db)).containsExactly("dump", "migrate");
    assertThat(run.out()).contains("before_all kept: 1 host still upgraded (" + app1.name() + ")");

    Run back = cli("rollback", runId());
    assertThat(back.out()).contains(app1.name() + ", once@" + db.name());
    assertThat(read(app1, "version")).isEqualTo("v1");
    assertThat(read(db, "schema")).isEqualTo("v1");
    assertThat(at(db, "restore")).isGreaterThan(at(app1, "down"));
  }

  @Test
  void aControllerKilledInsideBeforeAllIsResumedToAllOrNothing() throws Exception {
    Path rb = runbook("rollback-host");
    Process p =
        Cli.child(
                tmp.resolve("controller.log"),
                List.of(
                    "apply",
                    rb.toString(),
                    "-i",
                    inventory.toString(),
                    "--yes",
                    "-e",
                    "migrate_seconds=20",
                    "--known-hosts",
                    fleet.knownHostsFile().toString(),
                    "--state-dir",
                    state.toString()))
            .start();
    // checked below, with the controller's output
    Await.within(Duration.ofSeconds(40), () -> at(db, "migrate") >= 0 || !p.isAlive());
    assertThat(at(db, "migrate")).as(Files.readString(tmp.resolve("controller.log"))).isPositive();
    p.destroyForcibly().waitFor(); // SIGKILL, inside the migration
    assertThat(log(app1)).isEmpty();

    Run resumed = cli("resume", runId(), "--orphan-wait", "1");
    // Migrate once is not idempotent: possibly done, so before_all is undone and no target is
    // touched.
    assertThat(resumed.code()).as(resumed.out()).isEqualTo(2);
    assertThat(read(db, "schema")).isEqualTo("v1");
    assertThat(log(db)).containsExactly("dump", "migrate", "unmigrate", "restore");
    assertThat(read(app1, "version")).isEqualTo("v1");
    assertThat(read(app2, "version")).isEqualTo("v1");
    assertThat(log(app1)).isEmpty();
    assertThat(cli("rollback", runId()).out()).contains("Nothing to undo");
    assertThat(log(db)).hasSize(4);
  }
}
