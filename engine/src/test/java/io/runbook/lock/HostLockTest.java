package io.runbook.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.testing.Await;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.LocalTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostLockTest {
  private static final Duration LEASE = Duration.ofSeconds(60);

  private final LocalTransport local = new LocalTransport("web1");

  @TempDir Path tmp;
  private Path lock;

  @BeforeEach
  void lockPath() {
    lock = tmp.resolve("runbook.lock");
  }

  private HostLock acquire(String runId, String user, Duration lease, boolean breakLock) {
    return HostLock.acquire(
        local, "web1", runId, "laptop", user, lease, breakLock, lock.toString());
  }

  private Map<String, String> holderFile() throws IOException {
    try (Stream<String> lines = Files.lines(lock.resolve("holder"))) {
      return lines.map(l -> l.split("=", 2)).collect(Collectors.toMap(kv -> kv[0], kv -> kv[1]));
    }
  }

  private void writeHolder(Path dir, String runId, long started, long expires) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("holder"),
        "run_id="
            + runId
            + "\ncontroller=laptop\nuser=alice\nstarted="
            + started
            + "\nexpires="
            + expires
            + "\n");
  }

  @Test
  void acquireWritesTheHolderOnTheHostAndReleaseRemovesIt() throws IOException {
    Instant before = Instant.now().minusSeconds(1);
    HostLock l = acquire("run-1", "alice", LEASE, false);

    HostLock.Holder h = l.holder();
    assertThat(h.runId()).isEqualTo("run-1");
    assertThat(h.controller()).isEqualTo("laptop");
    assertThat(h.user()).isEqualTo("alice");
    assertThat(h.started()).isBetween(before, Instant.now().plusSeconds(1));
    assertThat(h.expires()).isEqualTo(h.started().plus(LEASE));
    assertThat(l.tookOverFrom()).isEmpty();
    assertThat(holderFile())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "run_id",
                "run-1",
                "controller",
                "laptop",
                "user",
                "alice",
                "session",
                HostLock.SESSION,
                "started",
                "" + h.started().getEpochSecond(),
                "expires",
                "" + h.expires().getEpochSecond()));
    // Readable by every user, so a plain user can see who holds a host.
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lock)))
        .isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lock.resolve("holder"))))
        .isEqualTo("rw-r--r--");
    assertThat(HostLock.read(local, lock.toString())).contains(h);

    l.release();

    assertThat(HostLock.read(local, lock.toString())).isEmpty();
    assertThat(names(tmp)).as("nothing left behind: no lock, mutex or aside directory").isEmpty();
  }

  @Test
  void secondAcquireIsRefusedWithAMessageNamingTheHolder() throws IOException {
    // 2100-01-01T00:00:00Z, lease until five minutes later: fixed times make the whole message
    // checkable.
    writeHolder(lock, "20261121-213004-3fee", 4102444800L, 4102445100L);

    assertThatThrownBy(() -> acquire("run-2", "bob", LEASE, false))
        .isInstanceOfSatisfying(
            HostLockedException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.HOST_FAILED);
              assertThat(e.host()).isEqualTo("web1");
              assertThat(e.holder()).map(HostLock.Holder::runId).contains("20261121-213004-3fee");
            })
        .hasMessage(
            "web1 is locked by run 20261121-213004-3fee (alice@laptop, since 2100-01-01T00:00:00Z,"
                + " lease until 00:05:00Z): wait for it to finish, or if that run is dead, pass --break-lock");
    assertThat(holderFile()).containsEntry("run_id", "20261121-213004-3fee");
  }

  @Test
  void secondRunIsRefusedWhileTheFirstHoldsTheLock() {
    // The lease end shows the date only when it falls on another day (near midnight UTC): both
    // forms match.
    HostLock first = acquire("run-1", "alice", LEASE, false);

    assertThatThrownBy(() -> acquire("run-2", "bob", LEASE, false))
        .isInstanceOf(HostLockedException.class)
        .hasMessageMatching(
            "web1 is locked by run run-1 \\(alice@laptop, since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ,"
                + " lease until (\\d{4}-\\d\\d-\\d\\dT)?\\d\\d:\\d\\d:\\d\\dZ\\): wait for it to finish, or if that run is dead, pass --break-lock");
    assertThat(HostLock.read(local, lock.toString())).contains(first.holder());
  }

  @Test
  void leaseEndsAtMidnightShowsTheFullDate() throws IOException {
    writeHolder(lock, "run-1", 4102444700L, 4102444900L); // 23:58:20 to 00:01:40 the next day

    assertThatThrownBy(() -> acquire("run-2", "bob", LEASE, false))
        .hasMessageContaining(
            "(alice@laptop, since 2099-12-31T23:58:20Z, lease until 2100-01-01T00:01:40Z)");
  }

  @Test
  void anExpiredLeaseIsTakenOverAndSaysFromWhom() throws InterruptedException {
    HostLock dead = acquire("run-1", "alice", Duration.ofSeconds(1), false);
    Await.past(dead.holder().expires());

    HostLock l = acquire("run-2", "bob", LEASE, false);

    assertThat(l.holder().runId()).isEqualTo("run-2");
    assertThat(l.tookOverFrom()).contains(dead.holder());
    assertThat(HostLock.read(local, lock.toString())).contains(l.holder());
  }

  @Test
  void anExpiredHolderFileIsTakenOver() throws IOException {
    writeHolder(lock, "run-old", 1_000_000_000L, 1_000_000_300L);

    HostLock l = acquire("run-2", "bob", LEASE, false);

    assertThat(l.tookOverFrom())
        .contains(
            new HostLock.Holder(
                "run-old",
                "laptop",
                "alice",
                Instant.ofEpochSecond(1_000_000_000L),
                Instant.ofEpochSecond(1_000_000_300L)));
    assertThat(holderFile()).containsEntry("run_id", "run-2").containsEntry("user", "bob");
    assertThat(names(tmp)).containsExactly("runbook.lock");
  }

  @Test
  void aLockDirectoryWithoutHolderIsTakenOver() throws IOException {
    // What a controller leaves when it dies between creating the directory and writing the holder.
    Files.createDirectories(lock);

    HostLock l = acquire("run-2", "bob", LEASE, false);

    assertThat(l.tookOverFrom()).map(HostLock.Holder::runId).contains("?");
    assertThat(holderFile()).containsEntry("run_id", "run-2");
  }

  @Test
  void renewExtendsTheLeaseFromNow() throws Exception {
    HostLock l = acquire("run-1", "alice", Duration.ofSeconds(10), false);
    HostLock.Holder before = l.holder();
    Await.past(before.started()); // the renewal comes a whole second after the acquire

    l.renew();

    // Ten seconds from the renewal, which came at least a second after the acquire.
    assertThat(l.holder().expires())
        .isAfterOrEqualTo(before.expires().plusSeconds(1))
        .isBeforeOrEqualTo(Instant.now().plusSeconds(10));
    assertThat(l.holder().started()).isEqualTo(before.started());
    assertThat(holderFile())
        .containsEntry("expires", "" + l.holder().expires().getEpochSecond())
        .containsEntry("started", "" + before.started().getEpochSecond());
  }

  @Test
  void renewAfterTheLockWasBrokenThrowsAndReleaseLeavesTheNewHolderAlone() {
    HostLock first = acquire("run-1", "alice", LEASE, false);
    HostLock second = acquire("run-2", "bob", LEASE, true);

    assertThatThrownBy(first::renew)
        .isInstanceOfSatisfying(
            HostLockedException.class, e -> assertThat(e.holder()).contains(second.holder()))
        .hasMessageStartingWith(
            "web1: run run-1 no longer holds the host lock; it was taken over by run run-2"
                + " (bob@laptop, since ")
        .hasMessageEndingWith(". Stop changing web1: another run may be changing it");

    first.release();
    assertThat(HostLock.read(local, lock.toString())).contains(second.holder());
  }

  @Test
  void renewAfterTheLockWasRemovedThrows() throws IOException {
    HostLock l = acquire("run-1", "alice", LEASE, false);
    deleteTree(lock);

    assertThatThrownBy(l::renew)
        .isInstanceOfSatisfying(HostLockedException.class, e -> assertThat(e.holder()).isEmpty())
        .hasMessage(
            "web1: run run-1 no longer holds the host lock; it was removed."
                + " Stop changing web1: another run may be changing it");
  }

  @Test
  void breakLockTakesALiveLockAndNamesTheOldHolder() {
    HostLock first = acquire("run-1", "alice", LEASE, false);

    HostLock l = acquire("run-2", "bob", LEASE, true);

    assertThat(l.tookOverFrom()).contains(first.holder());
    assertThat(HostLock.read(local, lock.toString())).contains(l.holder());
  }

  @Test
  void breakLockOnAFreeHostJustTakesIt() {
    HostLock l = acquire("run-1", "alice", LEASE, true);

    assertThat(l.tookOverFrom()).isEmpty();
    assertThat(HostLock.read(local, lock.toString())).contains(l.holder());
  }

  @Test
  void aRetriedAcquireOfTheSameRunKeepsItsLock() {
    HostLock first = acquire("run-1", "alice", LEASE, false);

    HostLock again = acquire("run-1", "alice", LEASE, false);

    assertThat(again.holder().started()).isEqualTo(first.holder().started());
    assertThat(again.tookOverFrom()).isEmpty();
  }

  @Test
  void releaseOfALockThatIsGoneDoesNotThrow() throws IOException {
    HostLock l = acquire("run-1", "alice", LEASE, false);
    deleteTree(lock);

    l.release();
    l.release();

    assertThat(HostLock.read(local, lock.toString())).isEmpty();
  }

  @Test
  void aMutexLeftByADeadScriptIsRemovedOnceItIsOld() throws IOException {
    Path mutex = Files.createDirectories(tmp.resolve("runbook.lock.mutex"));
    Files.setLastModifiedTime(mutex, FileTime.from(Instant.now().minusSeconds(120)));

    HostLock l = acquire("run-1", "alice", LEASE, false);

    assertThat(l.holder().runId()).isEqualTo("run-1");
    assertThat(names(tmp)).containsExactly("runbook.lock");
  }

  @Test
  void quotesTheLockPath() {
    lock = tmp.resolve("it's a \"lock\" $HOME");

    HostLock l = acquire("run-1", "o'brien", LEASE, false);

    assertThat(Files.isRegularFile(lock.resolve("holder"))).isTrue();
    assertThat(HostLock.read(local, lock.toString()))
        .map(HostLock.Holder::user)
        .contains("o'brien");
    l.release();
    assertThat(Files.exists(lock)).isFalse();
  }

  @Test
  void aLockThatCannotBeCreatedSaysWhy() {
    lock = tmp.resolve("missing/dir/runbook.lock");

    assertThatThrownBy(() -> acquire("run-1", "alice", LEASE, false))
        .isInstanceOf(RunbookException.class)
        .isNotInstanceOf(HostLockedException.class)
        .hasMessageStartingWith("web1: cannot acquire the host lock " + lock + ": ")
        .hasMessageContaining("No such file or directory");
  }

  @Test
  void rejectsValuesThatWouldBreakTheHolderFile() {
    assertThatThrownBy(() -> acquire("run-1\nexpires=9999999999", "alice", LEASE, false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> acquire("run-1", "alice", Duration.ofMillis(500), false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Files.exists(lock)).isFalse();
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  @Test
  void
      theSameRunFromAnotherControllerTakesALiveLockOverAndTheFirstControllersGuardedCommandsStop() {
    HostLock first = acquire("run-1", "alice", LEASE, false);
    String guarded = first.guard() + "echo ran";
    assertThat(local.exec(ExecRequest.builder(guarded).build()).stdoutText()).isEqualTo("ran\n");

    // a resume of run-1 on another machine, while the lease of the first controller is still live
    HostLock second =
        HostLock.acquire(
            local, "web1", "run-1", "ci", "bob", LEASE, false, lock.toString(), "other-session");

    assertThat(second.tookOverFrom()).isPresent();
    assertThat(second.tookOverFrom().get().session()).isEqualTo(HostLock.SESSION);
    ExecResult stopped = local.exec(ExecRequest.builder(guarded).build());
    assertThat(stopped.exitCode()).isEqualTo(HostLock.LOST_EXIT);
    assertThat(stopped.stdoutText()).isEmpty();
    assertThat(stopped.stderrText()).contains(HostLock.LOST_MARK);
    assertThatThrownBy(first::renew).isInstanceOf(HostLockedException.class);
    // another run still has to wait for the lease, or break the lock
    assertThatThrownBy(() -> acquire("run-2", "carol", LEASE, false))
        .isInstanceOf(HostLockedException.class);
  }
}
