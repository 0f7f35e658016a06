package io.runbook.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.testing.SshHost;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HostLock} on a real OpenSSH host, at its default path, with two controllers racing for it.
 */
class HostLockIT {
  private static final Duration LEASE = Duration.ofSeconds(60);
  private static final String LOCK = HostLock.DEFAULT_PATH;

  @TempDir static Path tmp;
  private static SshHost host;
  private static SshTransport laptop;
  private static SshTransport ci;

  @BeforeAll
  static void start() throws IOException {
    host = SshHost.start("lock");
    Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), host.knownHostsLine() + "\n");
    laptop = connect(knownHosts);
    ci = connect(knownHosts);
  }

  private static SshTransport connect(Path knownHosts) {
    return SshTransport.connect(
        new SshSettings(
            host.name(),
            host.host(),
            host.port(),
            host.user(),
            host.privateKey(),
            knownHosts,
            HostKeyPolicy.STRICT,
            Duration.ofSeconds(5)));
  }

  @AfterAll
  static void stop() {
    if (laptop != null) laptop.close();
    if (ci != null) ci.close();
    if (host != null) host.close();
  }

  @AfterEach
  void removeLock() {
    host.exec("rm", "-rf", LOCK, LOCK + ".mutex");
  }

  private static HostLock acquire(SshTransport t, String runId) {
    return HostLock.acquire(
        t, host.name(), runId, t == laptop ? "laptop" : "ci", "deploy", LEASE, false);
  }

  @Test
  void twoControllersRacingForTheLockNeverBothWin() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 10; round++) {
        if (round % 2 == 1) {
          // Odd rounds race to take over a lock whose lease has run out: the dangerous case.
          host.exec(
              "su",
              "runbook",
              "-c",
              "mkdir "
                  + LOCK
                  + " && printf 'run_id=dead\\ncontroller=gone\\n"
                  + "user=deploy\\nstarted=1000\\nexpires=1300\\n' > "
                  + LOCK
                  + "/holder");
        }
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<Object>> results = new ArrayList<>();
        for (SshTransport t : List.of(laptop, ci)) {
          String runId = "run-" + round + "-" + (t == laptop ? "laptop" : "ci");
          results.add(
              pool.submit(
                  () -> {
                    start.await();
                    try {
                      return acquire(t, runId);
                    } catch (HostLockedException e) {
                      return e;
                    }
                  }));
        }
        Object a = results.get(0).get();
        Object b = results.get(1).get();

        List<HostLock> won = new ArrayList<>();
        List<HostLockedException> lost = new ArrayList<>();
        for (Object o : List.of(a, b)) {
          if (o instanceof HostLock l) won.add(l);
          else lost.add((HostLockedException) o);
        }
        assertThat(won).as("round %d: exactly one controller takes the lock", round).hasSize(1);
        HostLock winner = won.get(0);
        assertThat(lost.get(0).holder())
            .as("round %d: the loser is told who won", round)
            .contains(winner.holder());
        assertThat(lost.get(0))
            .hasMessageStartingWith("lock is locked by run " + winner.holder().runId() + " (");
        if (round % 2 == 1) {
          assertThat(winner.tookOverFrom()).map(HostLock.Holder::runId).contains("dead");
        }
        assertThat(host.readFile(LOCK + "/holder"))
            .contains("run_id=" + winner.holder().runId() + "\n");

        winner.release();
        assertThat(host.exec("ls", "-a", "/var/tmp")).doesNotContain("runbook.lock");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theLockIsADirectoryOnTheHostThatAnyUserCanRead() {
    HostLock l = acquire(laptop, "20261121-213004-3fee");
    HostLock.Holder h = l.holder();

    assertThat(host.exec("stat", "-c", "%F %U %a", LOCK, LOCK + "/holder").lines())
        .containsExactly("directory runbook 755", "regular file runbook 644");
    assertThat(host.readFile(LOCK + "/holder"))
        .isEqualTo(
            "run_id=20261121-213004-3fee\ncontroller=laptop\n"
                + "user=deploy\nsession="
                + HostLock.SESSION
                + "\nstarted="
                + h.started().getEpochSecond()
                + "\nexpires="
                + h.expires().getEpochSecond()
                + "\n");
    // The host's clock sets the times.
    long hostNow = Long.parseLong(host.exec("date", "+%s").strip());
    assertThat(h.started().getEpochSecond()).isBetween(hostNow - 5, hostNow);
    assertThat(h.expires()).isEqualTo(h.started().plus(LEASE));
    assertThat(HostLock.read(ci)).contains(h);

    l.renew();
    assertThat(HostLock.read(ci)).contains(l.holder());
    l.release();
    assertThat(HostLock.read(ci)).isEmpty();
  }

  @Test
  void aStaleLockOfAnotherLoginUserCannotBeTakenOverAndTheErrorSaysWhy() {
    host.exec(
        "sh",
        "-c",
        "mkdir "
            + LOCK
            + " && printf 'run_id=root-run\\ncontroller=x\\nuser=root\\n"
            + "started=1000\\nexpires=1300\\n' > "
            + LOCK
            + "/holder");

    assertThatThrownBy(() -> acquire(laptop, "run-1"))
        .isInstanceOf(RunbookException.class)
        .hasMessageStartingWith("lock: cannot acquire the host lock " + LOCK + ": ")
        .hasMessageContaining("Operation not permitted") // /var/tmp is sticky
        .hasMessageEndingWith(
            "; a lock made by another login user can only be removed by that user or root");
    assertThat(host.readFile(LOCK + "/holder")).contains("run_id=root-run");
    assertThat(host.exec("ls", "-a", "/var/tmp"))
        .doesNotContain("runbook.lock.old", "runbook.lock.mutex");
  }
}
