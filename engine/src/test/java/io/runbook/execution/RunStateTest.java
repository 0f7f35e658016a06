package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackStarted;
import io.runbook.event.RunResumed;
import io.runbook.event.RunStarted;
import io.runbook.event.StepCheckpoint;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.journal.JournalWriter;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.StepResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state resume and rollback act on, folded from journals written by the real writer. */
class RunStateTest {
  @TempDir Path state;
  static final Instant T = Instant.parse("2026-12-06T10:00:00Z");

  private final List<Event> events = new ArrayList<>();

  private void started() {
    events.add(
        new RunStarted(
            T,
            "run-1",
            "rb.yaml",
            "rb",
            "inv.yaml",
            List.of("h1", "h2"),
            2,
            "me",
            "ctl",
            List.of(List.of("h1"), List.of("h2")),
            new RunStarted.Request(
                "rb.yaml", "inv.yaml", null, Map.of(), List.of(1), 0, "rollback-host", "abc", T)));
  }

  private void step(String host, int index, StepResult r) {
    events.add(new StepStarted(T, host, "deploy", index, "s" + index, "shell", false, null));
    if (r != null)
      events.add(
          new StepFinished(T, host, "deploy", index, "s" + index, "shell", false, null, null, r));
  }

  private void undo(String host, String key, boolean finished) {
    events.add(new StepStarted(T, host, "deploy", 0, "undo " + key, "shell", true, "s", key));
    if (finished) {
      events.add(
          new StepFinished(
              T,
              host,
              "deploy",
              0,
              "undo " + key,
              "shell",
              true,
              "s",
              null,
              StepResult.changed("undone"),
              key));
    }
  }

  private static HostResult result(String host, Outcome outcome) {
    return new HostResult(host, "binary", outcome, 1, 2, 0, 0, 0, null, null, null, 10);
  }

  private RunState write() throws Exception {
    try (JournalWriter w = JournalWriter.open(state, "run-1")) {
      events.forEach(w::on);
    }
    return RunState.read(state, "run-1");
  }

  private void item(String host, int index, int i, StepResult r) {
    events.add(
        new StepStarted(
            T, host, "deploy", index, "s" + index + " #" + i, "copy", false, null, null, i, "lb"));
    if (r != null) {
      events.add(
          new StepFinished(
              T,
              host,
              "deploy",
              index,
              "s" + index + " #" + i,
              "copy",
              false,
              null,
              null,
              r,
              null,
              i,
              "lb"));
    }
  }

  @Test
  void eachItemOfALoopedStepIsKnownWithItsUndoStateAndTheStepIsDoneOnlyAfterItsSummary()
      throws Exception {
    started();
    step("h1", 1, StepResult.changed("a"));
    item(
        "h1",
        2,
        1,
        StepResult.changed("first").withData(Map.of("_previous_content_base64", "b25l")));
    item("h1", 2, 2, StepResult.skipped("when"));
    item("h1", 2, 3, null);
    events.add(new StepCheckpoint(T, "h1", 2, Map.of("_previous_content_base64", "dGhyZWU="), 3));
    item("h2", 2, 1, StepResult.changed("first"));
    events.add(
        new StepFinished(
            T,
            "h2",
            "deploy",
            2,
            "s2",
            "copy",
            false,
            null,
            null,
            StepResult.changed(null).withData(Map.of("results", List.of())),
            null,
            0,
            null));
    events.add(new RollbackStarted(T, "h2", null, "asked", List.of("s2 #1")));
    undo("h2", "2.1:auto", true);

    RunState s = write();

    RunState.HostState h1 = s.hosts().get("h1");
    assertThat(h1.inFlight()).as("a looped step is in flight until its summary").isEqualTo(2);
    assertThat(h1.iterationInFlight()).isEqualTo(3);
    assertThat(h1.completed()).containsOnlyKeys(1);
    assertThat(h1.iterations()).containsOnlyKeys("2.1", "2.2");
    assertThat(h1.iterations().get("2.1").data())
        .as("private undo state, by item")
        .containsEntry("_previous_content_base64", "b25l");
    assertThat(h1.checkpoint())
        .as("the checkpoint of the item in flight")
        .containsEntry("_previous_content_base64", "dGhyZWU=");
    RunState.HostState h2 = s.hosts().get("h2");
    assertThat(h2.inFlight()).isZero();
    assertThat(h2.iterationInFlight()).isZero();
    assertThat(h2.completed()).containsOnlyKeys(2);
    assertThat(h2.undone()).containsExactly("2.1:auto");
    assertThat(Files.readString(state.resolve("runs/run-1/journal.jsonl")))
        .doesNotContain("b25l")
        .contains("\"iteration\":3")
        .contains("\"delegate\":\"lb\"");
  }

  @Test
  void aHostsOutcomeIsReadFromHostFinished() throws Exception {
    started();
    events.add(new HostStarted(T, "h1", "binary", "h1"));
    step("h1", 1, StepResult.changed("done"));
    events.add(new HostFinished(T, result("h1", Outcome.ROLLED_BACK)));

    RunState s = write();

    // host_finished keeps the host inside its result: a reader of a top-level "host" saw every host
    // as unknown
    assertThat(s.hosts().get("h1").result()).isNotNull();
    assertThat(s.hosts().get("h1").result().outcome()).isEqualTo(Outcome.ROLLED_BACK);
    assertThat(s.hosts().get("h2").result()).isNull();
  }

  @Test
  void undoWorkThatFinishedIsKnownAndTheOneInFlightIsNot() throws Exception {
    started();
    step("h1", 1, StepResult.changed("a"));
    step("h1", 2, StepResult.changed("b"));
    step("h1", 3, StepResult.failed("boom"));
    events.add(new RollbackStarted(T, "h1", "s3", "boom", List.of("s2", "s1")));
    undo("h1", "2:1", true);
    undo("h1", "1:auto", false); // the controller died here

    RunState.HostState h1 = write().hosts().get("h1");

    assertThat(h1.undone()).containsExactly("2:1");
    assertThat(h1.undoInFlight()).isEqualTo("1:auto");
    assertThat(h1.rollingBack()).isTrue();
    assertThat(h1.result()).isNull();
    assertThat(h1.completed()).containsOnlyKeys(1, 2, 3);
  }

  @Test
  void aStepInFlightKeepsTheUndoStateItJournaledBeforeChangingTheHost() throws Exception {
    started();
    step("h2", 1, StepResult.changed("a"));
    events.add(new StepStarted(T, "h2", "deploy", 2, "copy", "copy", false, null));
    events.add(
        new StepCheckpoint(
            T, "h2", 2, Map.of("dest", "/etc/app.conf", "_previous_content_base64", "b2xk")));

    RunState s = write();

    assertThat(s.hosts().get("h2").inFlight()).isEqualTo(2);
    assertThat(s.hosts().get("h2").checkpoint())
        .containsEntry("dest", "/etc/app.conf")
        .containsEntry("_previous_content_base64", "b2xk");
    // the old bytes stay out of the journal
    assertThat(Files.readString(state.resolve("runs/run-1/journal.jsonl")))
        .doesNotContain("b2xk")
        .contains("\"event\":\"step_checkpoint\"");
    assertThat(Files.readString(state.resolve("runs/run-1/undo-state.jsonl"))).contains("b2xk");
  }

  @Test
  void finishedBatchesAndAHostUndoneByALaterRollbackAreKnown() throws Exception {
    started();
    events.add(new BatchStarted(T, 1, 2, List.of("h1")));
    step("h1", 1, StepResult.changed("a"));
    events.add(new HostFinished(T, result("h1", Outcome.SUCCEEDED)));
    events.add(new BatchFinished(T, 1, List.of("h1"), List.of(), "continue", null));
    events.add(new RunResumed(T, "run-1", "rollback", "me", "ctl", List.of("h1")));
    events.add(new RollbackStarted(T, "h1", null, "asked", List.of("s1")));
    undo("h1", "1:auto", true);
    events.add(new RollbackFinished(T, "h1", true, null, List.of()));
    events.add(new HostFinished(T, result("h1", Outcome.UNDONE)));

    RunState s = write();

    assertThat(s.startedBatches()).containsExactly(1);
    assertThat(s.finishedBatches()).containsEntry(1, "continue");
    assertThat(s.hosts().get("h1").result().outcome()).isEqualTo(Outcome.UNDONE);
    assertThat(s.hosts().get("h1").undone()).containsExactly("1:auto");
    assertThat(s.hosts().get("h1").rollingBack()).isFalse();
  }

  @Test
  void aLineCutShortByADyingControllerIsNotDamageButALineDamagedInTheMiddleIs() throws Exception {
    started();
    step("h1", 1, StepResult.changed("a"));
    write();
    Path journal = state.resolve("runs/run-1/journal.jsonl");
    // a torn last write, then a resume
    Files.write(
        journal,
        "{\"event\":\"step_finished\",\"host\":\"h1\",\"ind".getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    try (JournalWriter w = JournalWriter.append(state, "run-1")) {
      w.on(new RunResumed(T, "run-1", "resume", "me", "ctl", List.of("h1")));
    }
    RunState resumed = RunState.read(state, "run-1");
    assertThat(resumed.damage()).hasSize(1);
    assertThat(resumed.damage().get(0).torn()).isTrue();
    resumed.requireKnown(List.of("h1", "h2"), "resume"); // does not throw

    // bytes damaged in the middle (not UTF-8), naming h2
    byte[] bad =
        "{\"event\":\"host_finished\",\"result\":{\"host\":\"h2\",\"outcome\":\"\u00ff"
            .getBytes(StandardCharsets.ISO_8859_1);
    List<byte[]> lines = new ArrayList<>();
    for (String l : Files.readString(journal).lines().toList())
      lines.add(l.getBytes(StandardCharsets.UTF_8));
    lines.add(2, bad);
    try (var out = Files.newOutputStream(journal)) {
      for (byte[] l : lines) {
        out.write(l);
        out.write('\n');
      }
    }
    RunState damaged = RunState.read(state, "run-1");

    assertThat(damaged.damage())
        .anySatisfy(
            d -> {
              assertThat(d.line()).isEqualTo(3);
              assertThat(d.host()).isEqualTo("h2");
              assertThat(d.torn()).isFalse();
            });
    damaged.requireKnown(List.of("h1"), "roll back"); // h1 is not concerned
    assertThatThrownBy(() -> damaged.requireKnown(List.of("h1", "h2"), "roll back"))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("line 3 (host_finished of h2)")
        .hasMessageContaining("Check that host by hand")
        .hasMessageContaining("--limit '!h2'");
  }

  @Test
  void aJournalThatCannotBeWrittenStopsTheRunOnceAndContinuesInAFallbackFile() throws Exception {
    Path dir = state.resolve("runs/run-full");
    Files.createDirectories(dir);
    Files.createSymbolicLink(
        dir.resolve("journal.jsonl"), Path.of("/dev/full")); // every write: no space left
    JournalWriter.fallbackOf("run-full").ifPresent(p -> p.toFile().delete());
    List<String> told = new ArrayList<>();
    try (JournalWriter w = JournalWriter.append(state, "run-full")) {
      w.onFailure(told::add);
      started();
      events.forEach(w::on);
      step("h1", 1, StepResult.changed("a"));
      events.forEach(w::on);
      assertThat(w.failure())
          .contains("No space left on device")
          .contains("the journal continues in");
    }
    assertThat(told).hasSize(1);
    Path fallback = JournalWriter.fallbackOf("run-full").orElseThrow();
    try {
      assertThat(fallback.toFile().canRead()).isTrue();
      assertThat(Files.getPosixFilePermissions(fallback))
          .extracting(Object::toString)
          .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
      List<String> kept = Files.readAllLines(fallback);
      assertThat(kept.get(0)).contains("\"event\":\"run_started\"");
      assertThat(kept).anyMatch(l -> l.contains("\"event\":\"step_finished\""));
      // resume and rollback put the fallback copy back in place, since the state dir's journal
      // holds less
      Files.delete(dir.resolve("journal.jsonl"));
      Files.writeString(dir.resolve("journal.jsonl"), "");
      assertThat(RunState.read(state, "run-full").hosts().get("h1").completed())
          .containsOnlyKeys(1);
      assertThat(Files.readAllLines(dir.resolve("journal.jsonl"))).isEqualTo(kept);
      assertThat(fallback).doesNotExist();
    } finally {
      Files.deleteIfExists(fallback);
    }
  }

  @Test
  void theRunOnceSessionIsFoldedUnderItsOwnNameWithItsOwnUndoKeys() throws Exception {
    started();
    // before_all on db: steps 1 and 2, then the batches, then a kept result (rollback-host, h1
    // upgraded)
    events.add(new HostStarted(T, "once@db", null, "db"));
    for (int i = 1; i <= 2; i++) {
      events.add(new StepStarted(T, "once@db", "before_all", i, "m" + i, "shell", false, null));
      events.add(
          new StepFinished(
              T,
              "once@db",
              "before_all",
              i,
              "m" + i,
              "shell",
              false,
              null,
              null,
              StepResult.changed("x")));
    }
    step("h1", 1, StepResult.changed("a"));
    events.add(
        new HostFinished(
            T,
            new HostResult(
                "once@db",
                null,
                Outcome.SUCCEEDED,
                0,
                2,
                0,
                0,
                0,
                null,
                "before_all kept: 1 host still upgraded (h1)",
                null,
                10)));
    // a later rollback RUN_ID: h1 undone, then once@db's handler of step 2 done and step 1's in
    // flight
    events.add(new RunResumed(T, "run-1", "rollback", "me", "ctl", List.of("h1", "once@db")));
    undo("h1", "1:1", true);
    events.add(new HostFinished(T, result("h1", Outcome.UNDONE)));
    events.add(new RollbackStarted(T, "once@db", null, "asked", List.of("m2", "m1")));
    events.add(
        new StepStarted(T, "once@db", "before_all", 0, "unmigrate", "shell", true, "m2", "2:1"));
    events.add(
        new StepFinished(
            T,
            "once@db",
            "before_all",
            0,
            "unmigrate",
            "shell",
            true,
            "m2",
            null,
            StepResult.changed("ok"),
            "2:1"));
    events.add(
        new StepStarted(T, "once@db", "before_all", 0, "restore", "shell", true, "m1", "1:1"));

    RunState s = write();

    RunState.HostState once = s.hosts().get("once@db");
    assertThat(once.completed()).containsOnlyKeys(1, 2);
    assertThat(once.undone()).containsExactly("2:1");
    assertThat(once.undoInFlight()).isEqualTo("1:1");
    assertThat(once.rollingBack()).isTrue();
    assertThat(once.result()).isNull();
    assertThat(s.hosts().get("h1").undone()).containsExactly("1:1");
    assertThat(s.hosts().get("h1").result().outcome()).isEqualTo(Outcome.UNDONE);
    assertThat(s.batches()).containsExactly(List.of("h1"), List.of("h2"));
  }
}
