package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * before_all / after_all on hosts of this machine ({@code ansible_connection: local}): real shells
 * and files. The order, the undo rules and the input errors; the same over SSH with a killed
 * controller in {@code RunOncePhasesIT}.
 */
class RunOncePhasesTest {
  @TempDir Path tmp;
  Path inventory;
  Path files;

  @BeforeEach
  void inventory() throws IOException {
    files = Files.createDirectories(tmp.resolve("files"));
    inventory = tmp.resolve("inv.yaml");
    Files.writeString(
        inventory,
        """
        all:
          vars:
            ansible_connection: local
            runbook_lock_path: %s/lock
            d: %s
          children:
            app:
              hosts:
                app1: {}
                app2: {}
            dbs:
              hosts:
                db: {db_name: flags}
        """
            .formatted(tmp, files));
  }

  /** Each host appends to its own file; the run-once steps to db.log. */
  Path runbook(String policy, String on, String extra) throws IOException {
    Path rb = tmp.resolve("rb.yaml");
    Files.writeString(
        rb,
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: shared database
        hosts: app
        rollout:
          serial: 1
          on_failure: %s
        before_all:
          on: %s
          steps:
            - name: Dump [=db_name] on [=inventory_hostname]
              shell: echo "dump [=inventory_hostname]" >> [=d]/db.log && echo dump-1
              register: dump
              rollback:
                - name: Restore [=dump.stdout]
                  shell: echo "restore [=dump.stdout]" >> [=d]/db.log
            - name: Migrate once
              shell: echo migrate >> [=d]/db.log
              rollback:
                - name: Unmigrate
                  shell: echo unmigrate >> [=d]/db.log
        after_all:
          on: %s
          steps:
            - name: Announce
              shell: echo "after [=dump.stdout]" >> [=d]/db.log
        phases:
          preflight:
            - name: Check
              shell: echo "preflight [=inventory_hostname]" >> [=d]/order.log
          deploy:
            - name: Upgrade [=inventory_hostname]
              shell: echo "up [=inventory_hostname]" >> [=d]/order.log && [ "[=fail!'']" != "[=inventory_hostname]" ]
              rollback:
                - name: Down
                  shell: echo "down [=inventory_hostname]" >> [=d]/order.log
        %s
        """
            .formatted(policy, on, on, extra));
    return rb;
  }

  Run cli(String command, Path rb, String... more) {
    List<String> args =
        new ArrayList<>(List.of(command, rb.toString(), "-i", inventory.toString()));
    if (!command.equals("plan"))
      args.addAll(List.of("--yes", "--state-dir", tmp.resolve("state").toString()));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  Run rollback(String runId) {
    return Cli.run("rollback", runId, "--yes", "--state-dir", tmp.resolve("state").toString());
  }

  String runId() throws IOException {
    try (var d = Files.list(tmp.resolve("state/runs"))) {
      return d.findFirst().orElseThrow().getFileName().toString();
    }
  }

  List<String> lines(String file) throws IOException {
    Path p = files.resolve(file);
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  @Test
  void planShowsTheRunOncePhasesAsTheirOwnBlocksWithTheOnHostsVariables() throws IOException {
    Run plan = cli("plan", runbook("rollback-host", "db", ""));
    assertThat(plan.code()).as(plan.err()).isZero();
    String out = plan.out();
    assertThat(out)
        .contains("before all, on db (local)")
        .contains("1. Dump flags on db  [shell]")
        .contains("↺ rollback: Unmigrate")
        .contains("after all, on db (local)")
        .contains("3. Announce  [shell]");
    assertThat(out.indexOf("before all, on db")).isLessThan(out.indexOf("host app1"));
    assertThat(out.indexOf("after all, on db")).isGreaterThan(out.indexOf("host app2"));
  }

  @Test
  void onMustNameExactlyOneHostOfTheInventory() throws IOException {
    Run unknown = cli("plan", runbook("rollback-host", "dbz", ""));
    assertThat(unknown.code()).isEqualTo(4);
    assertThat(unknown.err())
        .contains("rb.yaml:9:7: before_all: on: no group or host in ")
        .contains("is named 'dbz'")
        .contains("did you mean 'dbs'?");
    Run many = cli("plan", runbook("rollback-host", "app", ""));
    assertThat(many.code()).isEqualTo(4);
    assertThat(many.err())
        .contains("rb.yaml:9:7: before_all: on: 'app' matches 2 hosts (app1, app2)")
        .contains("rb.yaml:23:7: after_all: on: 'app' matches 2 hosts");
    Run none = cli("apply", runbook("rollback-host", "'!all'", ""));
    assertThat(none.code()).isEqualTo(4);
    assertThat(none.err())
        .contains("rb.yaml:9:7: before_all: on: host pattern '!all' selects no hosts");
    assertThat(tmp.resolve("state/runs")).doesNotExist();
    assertThat(lines("order.log")).isEmpty();
  }

  @Test
  void aWrongShapeIsReportedWithItsPlace() throws IOException {
    Path rb = runbook("rollback-host", "db", "");
    Files.writeString(
        rb, Files.readString(rb).replace("before_all:\n  on: db\n", "before_all:\n  onn: db\n"));
    Run run = cli("plan", rb);
    assertThat(run.code()).isEqualTo(4);
    assertThat(run.err())
        .contains("rb.yaml:9:3: unknown key 'onn' in 'before_all' (did you mean 'on'?)");
  }

  @Test
  void beforeAllRunsOnceAfterEveryPreflightAndAfterAllOnceAtTheEnd() throws IOException {
    Run run = cli("apply", runbook("rollback-host", "db", ""));
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(lines("db.log")).containsExactly("dump db", "migrate", "after dump-1");
    assertThat(lines("order.log"))
        .containsExactlyInAnyOrder("preflight app1", "preflight app2", "up app1", "up app2");
    assertThat(run.out())
        .contains("[once@db] before_all Dump flags on db")
        .contains("[once@db] after_all  Announce");
    // before_all between the preflights and batch 1, in the console's order too
    assertThat(run.out().indexOf("before_all Migrate once"))
        .isLessThan(run.out().indexOf("── batch 1/2"))
        .isGreaterThan(run.out().lastIndexOf("preflight  Check"));

    Run back = rollback(runId());
    assertThat(back.code()).as(back.out()).isEqualTo(2);
    assertThat(lines("order.log")).endsWith("down app2", "down app1");
    assertThat(lines("db.log")).endsWith("unmigrate", "restore dump-1");
    assertThat(back.out().indexOf("[once@db] ↺ before_all Unmigrate"))
        .isGreaterThan(back.out().indexOf("[app1] ↺ deploy"));
    Run again = rollback(runId());
    assertThat(again.code()).isZero();
    assertThat(again.out()).contains("Nothing to undo");
    assertThat(lines("db.log")).hasSize(5);
  }

  @Test
  void rollbackHostKeepsBeforeAllWhileAnUpgradedHostServesAndRollbackRunIdUndoesItLast()
      throws IOException {
    Run run = cli("apply", runbook("rollback-host", "db", ""), "-e", "fail=app2");
    assertThat(run.code()).isEqualTo(2);
    assertThat(lines("db.log")).containsExactly("dump db", "migrate");
    assertThat(run.out())
        .contains("once@db: before_all kept: 1 host still upgraded (app1)")
        .contains("Rollout stopped: ")
        .contains("; before_all kept: 1 host still upgraded (app1)");

    Run back = rollback(runId());
    assertThat(back.out()).contains("app1, once@db");
    assertThat(lines("order.log")).endsWith("down app1");
    assertThat(lines("db.log"))
        .containsExactly("dump db", "migrate", "unmigrate", "restore dump-1");
    assertThat(rollback(runId()).out()).contains("Nothing to undo");
  }

  @Test
  void rollbackHostUndoesBeforeAllWhenNoTargetRemainsUpgraded() throws IOException {
    Run run = cli("apply", runbook("rollback-host", "db", ""), "-e", "fail=app1");
    assertThat(run.code()).isEqualTo(2);
    assertThat(lines("db.log"))
        .containsExactly("dump db", "migrate", "unmigrate", "restore dump-1");
    assertThat(lines("order.log")).doesNotContain("up app2");
  }

  @Test
  void rollbackFleetUndoesBeforeAllAfterEveryTarget() throws IOException {
    Run run = cli("apply", runbook("rollback-fleet", "db", ""), "-e", "fail=app2");
    assertThat(run.code()).isEqualTo(2);
    assertThat(lines("order.log")).endsWith("up app2", "down app1");
    assertThat(lines("db.log"))
        .containsExactly("dump db", "migrate", "unmigrate", "restore dump-1");
    assertThat(run.out().indexOf("[once@db] ↺ before_all Unmigrate"))
        .isGreaterThan(run.out().indexOf("[app1] ↺ deploy"));
    assertThat(rollback(runId()).out()).contains("Nothing to undo");
  }

  @Test
  void aFailedBeforeAllIsUndoneAndNoTargetIsTouchedBeyondPreflight() throws IOException {
    Path rb = runbook("rollback-host", "db", "");
    Files.writeString(
        rb,
        Files.readString(rb)
            .replace(
                "shell: echo migrate >> [=d]/db.log", "shell: echo migrate >> [=d]/db.log; false"));
    Run run = cli("apply", rb);
    assertThat(run.code()).isEqualTo(2);
    assertThat(lines("order.log")).containsExactlyInAnyOrder("preflight app1", "preflight app2");
    assertThat(lines("db.log")).containsExactly("dump db", "migrate", "restore dump-1");
    assertThat(run.out())
        .contains("Rollout stopped: before_all (once@db) failed at 'Migrate once'");
  }

  @Test
  void onControllerRunsHereWithRunbookVariablesAndControllerAsItsHostname() throws IOException {
    Path rb = runbook("rollback-host", "controller", "vars: {d: " + files + ", db_name: here}");
    Run run = cli("apply", rb);
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(lines("db.log")).containsExactly("dump controller", "migrate", "after dump-1");
    assertThat(run.out()).contains("[once@controller] before_all Dump here on controller");
  }

  @Test
  void aFailedAfterAllRollsNothingBackAndExitsOne() throws IOException {
    Path rb = runbook("rollback-host", "db", "");
    Files.writeString(
        rb,
        Files.readString(rb)
            .replace(
                "shell: echo \"after [=dump.stdout]\" >> [=d]/db.log",
                "shell: echo \"after [=dump.stdout]\" >> [=d]/db.log; false"));
    Run run = cli("apply", rb);
    assertThat(run.code()).as(run.out()).isEqualTo(1);
    assertThat(lines("db.log")).containsExactly("dump db", "migrate", "after dump-1");
    assertThat(lines("order.log")).doesNotContain("down app1", "down app2");
    assertThat(run.out()).contains("[once@db] after_all  Announce").contains("cleanup failed");
  }
}
