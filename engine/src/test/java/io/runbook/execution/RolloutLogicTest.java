package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.engine.Engine;
import io.runbook.engine.Executed;
import io.runbook.engine.Launch;
import io.runbook.engine.RunRequest;
import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.RunStarted;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.secret.SecretValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rollout's logic (batches, preflight first, the gate, on_failure, rollback order) through the
 * engine façade, on hosts whose step commands are scripted ({@link ScriptedHosts}): no SSH, no
 * Docker. Each step sends {@code mark:NAME}; the assertions are on the marks each host got, in
 * order, and on the run's result.
 */
class RolloutLogicTest {
  @TempDir Path tmp;

  /** Every phase once, each forward step with its own undo, a gate and a cleanup. */
  private static final String STEPS =
      """
      phases:
        preflight:
          - {name: check, shell: echo mark:check}
        deploy:
          - name: a
            shell: echo mark:a
            rollback: [{name: undo a, shell: echo mark:undo-a}]
          - name: b
            shell: echo mark:b
            rollback: [{name: undo b, shell: echo mark:undo-b}]
        verify:
          - {name: verify, shell: echo mark:verify}
        cleanup:
          - {name: tidy, shell: echo mark:tidy}
        rollback:
          - {name: phase rollback, shell: echo mark:rb-phase}
      """;

  private static final List<String> UPGRADE = List.of("check", "a", "b", "verify", "gate", "tidy");
  private static final List<String> UNDO_AFTER_VERIFY = List.of("undo-b", "undo-a", "rb-phase");

  private final ScriptedHosts hosts = new ScriptedHosts();
  private final List<Event> events = Collections.synchronizedList(new ArrayList<>());

  @Test
  void everyHostRunsThePhasesInOrderThenTheGateThenItsCleanup() throws Exception {
    RunResult r = apply(2, "{serial: 1, gate: [{name: gate, shell: echo mark:gate}]}");

    assertThat(hosts.on("h1")).isEqualTo(UPGRADE);
    assertThat(hosts.on("h2")).isEqualTo(UPGRADE);
    assertThat(outcomes(r))
        .containsExactly(Map.entry("h1", Outcome.SUCCEEDED), Map.entry("h2", Outcome.SUCCEEDED));
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void preflightRunsOnEveryHostBeforeAnyBatchChangesAnything() throws Exception {
    apply(3, "{serial: 1}");

    List<String> seq = hosts.sequence();
    // preflight runs on the hosts in parallel: the three checks come first, in any order
    assertThat(seq.subList(0, 3)).containsExactlyInAnyOrder("h1:check", "h2:check", "h3:check");
    assertThat(seq.indexOf("h1:a")).isGreaterThan(2);
    assertThat(seq.indexOf("h2:a"))
        .as("batch 2 after batch 1's cleanup")
        .isGreaterThan(seq.indexOf("h1:tidy"));
  }

  @Test
  void batchesFollowSerialCountsAndPercentagesTheLastRepeating() throws Exception {
    apply(5, "{serial: [1, \"40%\"]}");

    List<List<String>> batches =
        events.stream()
            .filter(e -> e instanceof BatchStarted)
            .map(e -> ((BatchStarted) e).hosts())
            .toList();
    assertThat(batches).containsExactly(List.of("h1"), List.of("h2", "h3"), List.of("h4", "h5"));
  }

  @Test
  void aFailedStepUndoesTheCompletedStepsLastFirstThenTheRollbackPhase() throws Exception {
    hosts.fail("h1", "verify");
    RunResult r = apply(1, "{serial: 1}");

    assertThat(hosts.on("h1"))
        .containsExactly("check", "a", "b", "verify", "undo-b", "undo-a", "rb-phase");
    HostResult h1 = r.hosts().get(0);
    assertThat(h1.outcome()).isEqualTo(Outcome.ROLLED_BACK);
    assertThat(h1.failedStep()).isEqualTo("verify");
    assertThat(h1.rollbackError()).isNull();
    assertThat(r.exitCode()).isEqualTo(2);
  }

  @Test
  void theFailedStepItselfIsNotUndone() throws Exception {
    hosts.fail("h1", "b");
    RunResult r = apply(1, "{serial: 1}");

    assertThat(hosts.on("h1")).containsExactly("check", "a", "b", "undo-a", "rb-phase");
    assertThat(r.hosts().get(0).outcome()).isEqualTo(Outcome.ROLLED_BACK);
  }

  @Test
  void aFailingRollbackHandlerStopsTheRollbackOfThatHostOnly() throws Exception {
    hosts.fail("h1", "verify").fail("h1", "undo-b").fail("h2", "verify");
    RunResult r = apply(2, "{serial: 2, max_fail_percentage: 100}");

    assertThat(hosts.on("h1"))
        .as("nothing after the failed handler")
        .containsExactly("check", "a", "b", "verify", "undo-b");
    assertThat(hosts.on("h2"))
        .containsExactly("check", "a", "b", "verify", "undo-b", "undo-a", "rb-phase");
    assertThat(outcomes(r))
        .containsExactly(
            Map.entry("h1", Outcome.ROLLBACK_FAILED), Map.entry("h2", Outcome.ROLLED_BACK));
    assertThat(r.hosts().get(0).rollbackError()).isNotNull();
    assertThat(r.exitCode()).isEqualTo(3);
  }

  @Test
  void aFailedPreflightStopsTheRunBeforeAnyHostChanges() throws Exception {
    hosts.fail("h2", "check");
    RunResult r = apply(3, "{serial: 1}");

    assertThat(hosts.sequence()).containsExactlyInAnyOrder("h1:check", "h2:check", "h3:check");
    assertThat(r.hosts())
        .filteredOn(h -> h.host().equals("h2"))
        .extracting(HostResult::outcome)
        .containsExactly(Outcome.FAILED);
    assertThat(r.exitCode()).isEqualTo(2);
  }

  @Test
  void anUnreachableHostStopsTheRunInPreflight() throws Exception {
    hosts.unreachable("h3");
    RunResult r = apply(3, "{serial: 1}");

    assertThat(hosts.sequence()).noneMatch(s -> s.endsWith(":a"));
    assertThat(r.hosts())
        .filteredOn(h -> h.host().equals("h3"))
        .extracting(HostResult::outcome)
        .containsExactly(Outcome.UNREACHABLE);
    assertThat(r.exitCode()).isEqualTo(2);
  }

  @Test
  void rollbackHostStopsAfterABatchOverItsThresholdAndLeavesUpgradedHostsUpgraded()
      throws Exception {
    hosts.fail("h2", "verify");
    RunResult r = apply(3, "{serial: 1, on_failure: rollback-host}");

    assertThat(hosts.on("h1")).isEqualTo(List.of("check", "a", "b", "verify", "tidy"));
    assertThat(hosts.on("h3")).as("its batch never ran").containsExactly("check");
    assertThat(outcomes(r))
        .containsExactly(
            Map.entry("h1", Outcome.SUCCEEDED),
            Map.entry("h2", Outcome.ROLLED_BACK),
            Map.entry("h3", Outcome.NOT_RUN));
    assertThat(r.stopped()).isNotNull();
  }

  @Test
  void rollbackHostGoesOnWhileABatchStaysWithinItsThreshold() throws Exception {
    hosts.fail("h1", "verify");
    RunResult r = apply(4, "{serial: 2, max_fail_percentage: 50, on_failure: rollback-host}");

    assertThat(outcomes(r))
        .containsExactly(
            Map.entry("h1", Outcome.ROLLED_BACK),
            Map.entry("h2", Outcome.SUCCEEDED),
            Map.entry("h3", Outcome.SUCCEEDED),
            Map.entry("h4", Outcome.SUCCEEDED));
    assertThat(r.stopped()).isNull();
    assertThat(r.exitCode()).isEqualTo(2);
  }

  @Test
  void haltStopsAtTheFirstFailedHostAndKeepsUpgradedOnes() throws Exception {
    hosts.fail("h2", "b");
    RunResult r = apply(3, "{serial: 1, max_fail_percentage: 100, on_failure: halt}");

    assertThat(outcomes(r))
        .containsExactly(
            Map.entry("h1", Outcome.SUCCEEDED),
            Map.entry("h2", Outcome.ROLLED_BACK),
            Map.entry("h3", Outcome.NOT_RUN));
    assertThat(hosts.on("h1")).doesNotContain("undo-a", "undo-b");
  }

  @Test
  void rollbackFleetUndoesEveryChangedHostNewestBatchFirst() throws Exception {
    hosts.fail("h3", "verify");
    RunResult r = apply(4, "{serial: 1, on_failure: rollback-fleet}");

    assertThat(outcomes(r))
        .containsExactly(
            Map.entry("h1", Outcome.UNDONE),
            Map.entry("h2", Outcome.UNDONE),
            Map.entry("h3", Outcome.ROLLED_BACK),
            Map.entry("h4", Outcome.NOT_RUN));
    assertThat(hosts.on("h1"))
        .as("cleanups wait for the whole fleet under rollback-fleet")
        .containsExactly("check", "a", "b", "verify", "undo-b", "undo-a", "rb-phase");
    List<String> seq = hosts.sequence();
    assertThat(seq.indexOf("h2:rb-phase"))
        .as("batch 2 undone before batch 1")
        .isLessThan(seq.indexOf("h1:undo-b"));
    assertThat(seq.indexOf("h3:rb-phase"))
        .as("the failed host first")
        .isLessThan(seq.indexOf("h2:undo-b"));
    assertThat(hosts.on("h4")).containsExactly("check");
  }

  @Test
  void rollbackFleetRunsTheCleanupsOnlyOnceEveryBatchPassed() throws Exception {
    apply(2, "{serial: 1, on_failure: rollback-fleet}");

    List<String> seq = hosts.sequence();
    assertThat(seq.indexOf("h1:tidy"))
        .as("h1's cleanup after h2's upgrade")
        .isGreaterThan(seq.indexOf("h2:verify"));
    assertThat(hosts.on("h1")).isEqualTo(List.of("check", "a", "b", "verify", "tidy"));
  }

  @Test
  void aFailedGateRollsItsHostBackBeforeTheCleanup() throws Exception {
    hosts.fail("h1", "gate");
    RunResult r = apply(1, "{serial: 1, gate: [{name: gate, shell: echo mark:gate}]}");

    List<String> expected = new ArrayList<>(List.of("check", "a", "b", "verify", "gate"));
    expected.addAll(UNDO_AFTER_VERIFY);
    assertThat(hosts.on("h1")).isEqualTo(expected);
    assertThat(r.hosts().get(0).outcome()).isEqualTo(Outcome.ROLLED_BACK);
  }

  @Test
  void aFailedCleanupIsReportedNotRolledBack() throws Exception {
    hosts.fail("h1", "tidy");
    RunResult r = apply(1, "{serial: 1}");

    assertThat(hosts.on("h1")).containsExactly("check", "a", "b", "verify", "tidy");
    assertThat(r.hosts().get(0).outcome()).isEqualTo(Outcome.CLEANUP_FAILED);
    assertThat(r.exitCode()).isEqualTo(1);
  }

  @Test
  void rollingBackAFinishedRunUndoesItsHostsNewestBatchFirstAndOnlyOnce() throws Exception {
    Plan plan = plan(2, "{serial: 1}");
    assertThat(execute(plan, false, ex -> ex.run(plan, started(plan))).exitCode()).isZero();

    RunResult undo =
        execute(
            plan, true, ex -> ex.rollback(plan, RunState.read(tmp.resolve("state"), plan.runId())));
    RunResult again =
        execute(
            plan, true, ex -> ex.rollback(plan, RunState.read(tmp.resolve("state"), plan.runId())));

    assertThat(outcomes(undo))
        .containsExactly(Map.entry("h1", Outcome.UNDONE), Map.entry("h2", Outcome.UNDONE));
    List<String> seq = hosts.sequence();
    assertThat(seq.subList(seq.indexOf("h2:undo-b"), seq.size()))
        .containsExactly(
            "h2:undo-b", "h2:undo-a", "h2:rb-phase", "h1:undo-b", "h1:undo-a", "h1:rb-phase");
    assertThat(again.hosts()).as("a second rollback has nothing left to undo").isEmpty();
    assertThat(hosts.sequence()).hasSameSizeAs(seq);
  }

  private RunResult apply(int n, String rollout) throws Exception {
    Plan plan = plan(n, rollout);
    return execute(plan, false, ex -> ex.run(plan, started(plan)));
  }

  private Plan plan(int n, String rollout) throws Exception {
    Path inventory = tmp.resolve("inventory.yaml");
    Files.writeString(
        inventory,
        "all:\n  hosts:\n"
            + IntStream.rangeClosed(1, n)
                .mapToObj(
                    i ->
                        "    h"
                            + i
                            + ": {ansible_connection: local, runbook_lock_path: "
                            + tmp.resolve("lock-h" + i)
                            + "}\n")
                .collect(Collectors.joining()));
    Path runbook = tmp.resolve("runbook.yaml");
    Files.writeString(
        runbook,
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: scripted
        hosts: all
        timeout: 30s
        rollout: %s
        """
                .formatted(rollout)
            + STEPS);
    return Engine.plan(RunRequest.of(runbook, inventory.toString()));
  }

  private RunStarted.Request started(Plan plan) {
    return Engine.started(
        plan,
        tmp.resolve("runbook.yaml"),
        tmp.resolve("inventory.yaml").toString(),
        null,
        Map.of());
  }

  private RunResult execute(Plan plan, boolean append, Function<Executor, RunResult> action) {
    Launch launch =
        Launch.of(
                tmp.resolve("state"),
                hosts,
                2,
                Engine.control(plan, Duration.ofSeconds(30), false),
                SecretValues.of(plan))
            .view(journal -> events::add);
    Executed run = Engine.execute(plan, append ? launch.appending() : launch, action);
    assertThat(run.journalFailure()).isNull();
    return run.result();
  }

  private static List<Map.Entry<String, Outcome>> outcomes(RunResult r) {
    return r.hosts().stream().map(h -> Map.entry(h.host(), h.outcome())).toList();
  }
}
