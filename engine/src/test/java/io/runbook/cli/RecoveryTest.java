package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.lock.HostLock;
import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery paths on this machine ({@code ansible_connection: local}), checked on the files the
 * steps and their undo handlers leave: an undo runs at most once, ever; {@code rollback --limit};
 * cleanup never runs while the policy may still roll a host back; a broken lock is noticed within
 * seconds.
 */
class RecoveryTest {
  @TempDir Path tmp;
  Path inventory;
  Path work;

  @BeforeEach
  void inventory() throws Exception {
    work = Files.createDirectories(tmp.resolve("work"));
    inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          vars: {work: %1$s}
          hosts:
            one: {ansible_connection: local, runbook_lock_path: %2$s/lock-one}
            two: {ansible_connection: local, runbook_lock_path: %2$s/lock-two}
            three: {ansible_connection: local, runbook_lock_path: %2$s/lock-three}
        """
                .formatted(work, tmp));
  }

  Path runbook(String rollout, String extraPhases) throws Exception {
    return Files.writeString(
        tmp.resolve("rb.yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: counted
        hosts: all
        rollout: %s
        phases:
          deploy:
            - name: Change
              shell: echo "[=run.id]" >> [=work]/[=inventory_hostname].forward
              rollback:
                - name: Undo the change
                  shell: echo undo >> [=work]/[=inventory_hostname].undo
          verify:
            - name: Works everywhere but on [=fail_on]
              shell: test "[=inventory_hostname]" != "[=fail_on]"
        %s
        """
            .formatted(rollout, extraPhases));
  }

  Run cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--yes", "--state-dir", tmp.resolve("state").toString()));
    return Cli.run(all.toArray(String[]::new));
  }

  Run apply(Path rb, String... more) {
    List<String> args =
        new ArrayList<>(List.of("apply", rb.toString(), "-i", inventory.toString()));
    args.addAll(List.of(more));
    return cli(args.toArray(String[]::new));
  }

  String runId() throws Exception {
    try (var s = Files.list(tmp.resolve("state/runs"))) {
      return s.findFirst().orElseThrow().getFileName().toString();
    }
  }

  List<String> lines(String file) throws Exception {
    Path p = work.resolve(file);
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  @Test
  void aHostIsUndoneAtMostOnceEverAndASecondRollbackContactsNoHost() throws Exception {
    Path rb = runbook("{serial: 1, max_fail_percentage: 100, on_failure: rollback-host}", "");
    Run run = apply(rb, "-e", "fail_on=two");
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(lines("two.undo")).as("two rolled back during the run").containsExactly("undo");
    String id = runId();
    Files.writeString(work.resolve("two.after"), "written after the run\n");

    Run rollback = cli("rollback", id);

    assertThat(rollback.code()).as(rollback.out() + rollback.err()).isEqualTo(2);
    assertThat(lines("one.undo")).containsExactly("undo");
    assertThat(lines("three.undo")).containsExactly("undo");
    assertThat(lines("two.undo")).as("two's undo is not run a second time").containsExactly("undo");
    assertThat(rollback.out()).doesNotContainPattern("two\\s.*ROLLBACK");

    Path lockOne = tmp.resolve("lock-one");
    Run again = cli("rollback", id);

    assertThat(again.code()).as(again.out() + again.err()).isZero();
    assertThat(again.out()).contains("Nothing to undo").contains("No host was contacted");
    for (String h : List.of("one", "two", "three"))
      assertThat(lines(h + ".undo")).as(h).containsExactly("undo");
    assertThat(lockOne).as("no lock was taken, so no host was contacted").doesNotExist();
    assertThat(lines("two.after")).containsExactly("written after the run");
  }

  @Test
  void rollbackLimitUndoesASubsetAndTheRestLater() throws Exception {
    Path rb = runbook("{serial: 3}", "");
    Run run = apply(rb, "-e", "fail_on=none");
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    String id = runId();

    Run some = cli("rollback", id, "--limit", "three");

    assertThat(some.code()).as(some.out() + some.err()).isEqualTo(2);
    assertThat(lines("three.undo")).containsExactly("undo");
    assertThat(lines("one.undo")).isEmpty();
    assertThat(lines("two.undo")).isEmpty();

    Run rest = cli("rollback", id);

    assertThat(rest.code()).as(rest.out() + rest.err()).isEqualTo(2);
    for (String h : List.of("one", "two", "three"))
      assertThat(lines(h + ".undo")).as(h).containsExactly("undo");
    Run none = cli("rollback", id, "--limit", "nosuchhost");
    assertThat(none.code()).isEqualTo(4);
    assertThat(none.err() + none.out()).contains("nosuchhost");
  }

  @Test
  void underRollbackFleetNoCleanupRunsUntilEveryBatchPassed() throws Exception {
    String cleanup =
        """
          cleanup:
            - name: Remove the previous release (a rollback needs it)
              shell: echo cleaned >> [=work]/[=inventory_hostname].cleanup
        """;
    Path rb = runbook("{serial: 1, on_failure: rollback-fleet}", cleanup);

    Run failing = apply(rb, "-e", "fail_on=two");

    assertThat(failing.code()).as(failing.out() + failing.err()).isEqualTo(2);
    assertThat(lines("one.undo")).as("one was rolled back with the fleet").containsExactly("undo");
    assertThat(lines("one.cleanup")).as("one's cleanup waited for the whole rollout").isEmpty();
    assertThat(lines("two.cleanup")).isEmpty();

    for (String h : List.of("one", "two", "three")) Files.deleteIfExists(work.resolve(h + ".undo"));
    Run passing = apply(rb, "-e", "fail_on=none");

    assertThat(passing.code()).as(passing.out() + passing.err()).isZero();
    for (String h : List.of("one", "two", "three"))
      assertThat(lines(h + ".cleanup")).as(h).containsExactly("cleaned");
    // every cleanup ran after the last batch ended
    String out = passing.out();
    assertThat(out.indexOf("Remove the previous release"))
        .isGreaterThan(out.lastIndexOf("batch 3/3"));
  }

  @Test
  void aRunNoticesWithinSecondsThatAnotherRunBrokeItsLockAndStopsChangingTheHost()
      throws Exception {
    Path rb =
        Files.writeString(
            tmp.resolve("slow.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: slow
        hosts: one
        phases:
          deploy:
        """
                + "      - {name: Tick, shell: 'echo tick >> [=work]/one.ticks; sleep 1'}\n"
                    .repeat(12));
    Thread breaker =
        new Thread(
            () -> {
              try {
                Await.until(
                    Duration.ofSeconds(60), "two ticks", () -> lines("one.ticks").size() >= 2);
                try (LocalTransport t = new LocalTransport("breaker")) {
                  HostLock.acquire(
                      t,
                      "one",
                      "20261206-000000-beef",
                      "elsewhere",
                      "bob",
                      Duration.ofMinutes(5),
                      true,
                      tmp.resolve("lock-one").toString());
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    breaker.start();

    Run run = apply(rb);
    breaker.join();

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(3);
    assertThat(run.out()).contains("LOCK LOST to run 20261206-000000-beef");
    // broken during tick 2 or 3; noticed before tick 6 (checks every 2 s, steps of 1 s)
    assertThat(lines("one.ticks").size()).isBetween(2, 5);
    try (LocalTransport t = new LocalTransport("check")) {
      assertThat(HostLock.read(t, tmp.resolve("lock-one").toString()).orElseThrow().runId())
          .as("the breaker's lock is left alone")
          .isEqualTo("20261206-000000-beef");
    }
  }

  @Test
  void rollbackRefusesHostsWhoseCleanupCannotBeUndoneAndTouchesNothing() throws Exception {
    String cleanup =
        """
          cleanup:
            - name: Remove the previous release
              shell: echo cleaned >> [=work]/[=inventory_hostname].cleanup
        """;
    Path rb = runbook("{serial: 3}", cleanup);
    assertThat(apply(rb, "-e", "fail_on=none").code()).isZero();
    String id = runId();

    Run refused = cli("rollback", id);

    assertThat(refused.code()).as(refused.out() + refused.err()).isEqualTo(4);
    assertThat(refused.err())
        .contains("cannot roll back one ('Remove the previous release')")
        .contains("--limit '!one,!two,!three'")
        .contains("--after-cleanup")
        .contains("Nothing was touched");
    for (String h : List.of("one", "two", "three")) assertThat(lines(h + ".undo")).as(h).isEmpty();

    Run forced = cli("rollback", id, "--after-cleanup");

    assertThat(forced.code()).as(forced.out() + forced.err()).isEqualTo(2);
    for (String h : List.of("one", "two", "three"))
      assertThat(lines(h + ".undo")).as(h).containsExactly("undo");
  }
}
