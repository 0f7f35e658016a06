package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.engine.Engine;
import io.runbook.engine.RunRequest;
import io.runbook.event.StepStarted;
import io.runbook.execution.Executor;
import io.runbook.execution.Plan;
import io.runbook.execution.RunControl;
import io.runbook.lock.HostLock;
import io.runbook.result.RunResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host waiting for its batch runs no step for as long as the batches before it take, so nothing
 * renews its lease between its own steps: the run must keep it, or a second controller could take
 * the host over from a live run. A 3 s lease and a first batch of 5 s make the gap visible.
 */
class LeaseKeeperTest {
  @TempDir Path tmp;

  @Test
  void aHostWaitingForItsBatchKeepsItsLockWhileEarlierBatchesRun() throws Exception {
    Path inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          hosts:
            one: {ansible_connection: local, runbook_lock_path: %1$s/lock-one}
            two: {ansible_connection: local, runbook_lock_path: %1$s/lock-two}
        """
                .formatted(tmp));
    Path runbook =
        Files.writeString(
            tmp.resolve("rb.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: slow first batch
        hosts: all
        timeout: 30s
        rollout: {serial: 1}
        phases:
          deploy:
            - name: Work
              shell: sleep 5
        """);
    Plan plan = Engine.plan(RunRequest.of(runbook, inventory.toString()));
    RunControl control =
        new RunControl(plan.runId(), "test", "tester", Duration.ofSeconds(3), false);

    // Watches host two's lock from the outside until its own batch starts, as a second controller
    // would.
    // (During its own 5 s step nothing renews it: real leases outlast the longest step by a
    // minute.)
    List<String> lapses = new CopyOnWriteArrayList<>();
    List<Instant> seen = new CopyOnWriteArrayList<>();
    AtomicBoolean twoStarted = new AtomicBoolean();
    Thread watcher =
        new Thread(
            () -> {
              try (LocalTransport t = new LocalTransport("watcher")) {
                while (!Thread.currentThread().isInterrupted() && !twoStarted.get()) {
                  HostLock.read(t, tmp.resolve("lock-two").toString())
                      .ifPresent(
                          h -> {
                            Instant now = Instant.now();
                            seen.add(now);
                            if (h.expires().isBefore(now.minusMillis(500)))
                              lapses.add("expired at " + h.expires() + ", seen at " + now);
                          });
                  Thread.sleep(200);
                }
              } catch (InterruptedException e) {
                // done watching
              }
            });
    watcher.start();
    RunResult result;
    try {
      result =
          new Executor(
                  host -> new LocalTransport(host.name()),
                  e -> {
                    if (e instanceof StepStarted s
                        && s.host().equals("two")
                        && s.phase().equals("deploy")) twoStarted.set(true);
                  },
                  2,
                  control,
                  (b, n, h) -> true)
              .run(plan, null);
    } finally {
      watcher.interrupt();
      watcher.join();
    }

    assertThat(result.exitCode()).isZero();
    assertThat(twoStarted).isTrue();
    // Dated reads, not a count of them: under load a read takes longer, but the span is what
    // matters.
    assertThat(seen).as("host two's lock read while host one's batch ran").hasSizeGreaterThan(3);
    assertThat(Duration.between(seen.get(0), seen.get(seen.size() - 1)))
        .as("host two was locked through host one's 5 s step")
        .isGreaterThan(Duration.ofSeconds(4));
    assertThat(lapses).as("host two's lease never lapsed during the run").isEmpty();
    assertThat(tmp.resolve("lock-two")).as("released at the end").doesNotExist();
  }
}
