package io.runbook.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.event.RunResumed;
import io.runbook.event.RunStarted;
import io.runbook.event.StepCheckpoint;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.journal.HostSummary.State;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code history} and {@code show} make of journals written by the real {@link JournalWriter}
 * and then damaged: every line that is not an event is named with what it was about, a torn last
 * write apart from damage in the middle; orphaned commands and a lost lock are listed with their
 * host.
 */
public class DamagedJournalTest {
  static final Instant T = Instant.parse("2026-12-06T10:00:00Z");
  static final String RUN = "20261206-100000-beef";

  @TempDir Path state;

  /**
   * A run on h1 and h2 whose line 8 (h2's step_finished) is damaged on disk (a byte that is not
   * UTF-8) and whose last line, run_finished, its controller was killed in the middle of writing.
   * h2's command of an earlier controller was still running there; h1 lost its lock to another run.
   */
  public static Path damagedRun(Path state) throws Exception {
    List<Event> events = new ArrayList<>();
    events.add(
        new RunStarted(
            T,
            RUN,
            "rb.yaml",
            "Upgrade",
            "inv.yaml",
            List.of("h1", "h2"),
            2,
            "ann",
            "box1",
            List.of(List.of("h1", "h2")),
            new RunStarted.Request(
                "rb.yaml",
                "inv.yaml",
                null,
                Map.of(),
                List.of(2),
                0,
                "rollback-host",
                "abc",
                T))); // 1
    events.add(new BatchStarted(T.plusMillis(1), 1, 1, List.of("h1", "h2"))); // 2
    events.add(new HostStarted(T.plusMillis(2), "h1", "binary", "h1")); // 3
    events.add(new HostStarted(T.plusMillis(2), "h2", "binary", "h2")); // 4
    events.add(
        new OrphanFound(
            T.plusMillis(3_010),
            "h2",
            "20261206-090000-0ld0",
            List.of("4242 4242 sh -c ./migrate"),
            "stopped",
            3_000)); // 5
    events.add(
        new StepStarted(
            T.plusMillis(3_020), "h2", "migrate", 1, "Migrate", "shell", false, null)); // 6
    events.add(new StepCheckpoint(T.plusMillis(3_021), "h2", 1, Map.of())); // 7
    events.add(
        new StepFinished(
            T.plusMillis(3_100),
            "h2",
            "migrate",
            1,
            "Migrate",
            "shell",
            false,
            null,
            null,
            StepResult.changed("migrated"))); // 8: damaged
    events.add(
        new StepStarted(
            T.plusMillis(3_200), "h1", "migrate", 1, "Migrate", "shell", false, null)); // 9
    events.add(
        new LockChanged(
            T.plusMillis(3_300), "h1", "lost", "20261206-100500-n3w0 (bob@box2)")); // 10
    events.add(
        new HostFinished(
            T.plusMillis(3_400),
            new HostResult(
                "h1",
                "binary",
                Outcome.ROLLBACK_FAILED,
                0,
                0,
                0,
                0,
                0,
                null,
                "lost the host lock to 20261206-100500-n3w0 (bob@box2)",
                "not rolled back: lock lost",
                3_398))); // 11
    events.add(
        new HostFinished(
            T.plusMillis(3_500),
            new HostResult(
                "h2", "binary", Outcome.SUCCEEDED, 0, 1, 0, 0, 0, null, null, null, 3_498))); // 12
    try (JournalWriter w = JournalWriter.open(state, RUN)) {
      events.forEach(w::on);
    }
    Path journal = JournalWriter.runDir(state, RUN).resolve(JournalWriter.FILE);
    List<byte[]> lines =
        new ArrayList<>(
            Arrays.stream(Files.readString(journal).split("\n"))
                .map(l -> l.getBytes(StandardCharsets.UTF_8))
                .toList());
    assertThat(new String(lines.get(7), StandardCharsets.UTF_8))
        .startsWith("{\"event\":\"step_finished\"");
    // one byte in the middle of the line's message is no longer UTF-8: the line parses as JSON only
    // if
    // the reader guesses the character
    String eighth = new String(lines.get(7), StandardCharsets.UTF_8);
    int at = eighth.indexOf("migrated");
    ByteArrayOutputStream damaged = new ByteArrayOutputStream();
    damaged.write(lines.get(7), 0, at);
    damaged.write(0xff);
    damaged.write(lines.get(7), at + 1, lines.get(7).length - at - 1);
    lines.set(7, damaged.toByteArray());
    try (var out = Files.newOutputStream(journal)) {
      for (byte[] l : lines) {
        out.write(l);
        out.write('\n');
      }
      out.write(
          "{\"event\":\"run_finished\",\"at\":\"2026-12-06T10:00:04Z\",\"resu"
              .getBytes(StandardCharsets.UTF_8));
    }
    return journal;
  }

  @Test
  void eachDamagedLineIsNamedWithWhatItWasAbout() throws Exception {
    RunSummary run = JournalReader.read(damagedRun(state));

    assertThat(run.unreadableLines()).isEqualTo(2);
    assertThat(run.damage())
        .extracting(
            JournalEvents.Damage::line,
            JournalEvents.Damage::eventType,
            JournalEvents.Damage::host,
            JournalEvents.Damage::torn)
        .containsExactly(
            tuple(8, "step_finished", "h2", false), tuple(13, "run_finished", null, true));
    assertThat(run.damageNotes())
        .containsExactly(
            "journal damaged at line 8 (step_finished of h2): what happened there is unknown",
            "journal cut short at line 13 (run_finished) when its controller stopped");
    // what the damaged line said is not guessed: the step's end is unknown
    HostSummary h2 = run.hosts().get(1);
    assertThat(h2.steps())
        .extracting(StepRecord::name, StepRecord::status)
        .containsExactly(tuple("Migrate", null));
    assertThat(h2.state()).isEqualTo(State.FINISHED);
    assertThat(run.outcome()).isEqualTo(RunSummary.RunOutcome.ROLLBACK_FAILED);
  }

  @Test
  void anOrphanedCommandAndALostLockAreListedWithTheirHost() throws Exception {
    RunSummary run = JournalReader.read(damagedRun(state));

    HostSummary h1 = run.hosts().get(0);
    HostSummary h2 = run.hosts().get(1);
    assertThat(h2.orphans())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.run()).isEqualTo("20261206-090000-0ld0");
              assertThat(o.action()).isEqualTo("stopped");
              assertThat(o.waitedMillis()).isEqualTo(3_000);
              assertThat(o.processes()).containsExactly("4242 4242 sh -c ./migrate");
            });
    assertThat(h2.notices())
        .containsExactly(
            "run 20261206-090000-0ld0's command was still running on h2: waited 3s, stopped it");
    assertThat(h1.lockLostTo()).isEqualTo("20261206-100500-n3w0 (bob@box2)");
    assertThat(h1.notices())
        .containsExactly(
            "lost the lock of h1 to run 20261206-100500-n3w0 (bob@box2): stopped changing that host");
    assertThat(run.withoutSteps().hosts().get(1).orphans()).hasSize(1);
  }

  @Test
  void aLineTornBeforeAResumeIsNotDamageInTheMiddle() throws Exception {
    List<Event> events =
        List.of(
            new RunStarted(
                T,
                RUN,
                "rb.yaml",
                "Upgrade",
                "inv.yaml",
                List.of("h1"),
                1,
                "ann",
                "box1",
                List.of(List.of("h1")),
                null),
            new StepStarted(T.plusMillis(5), "h1", "deploy", 1, "Swap", "shell", false, null));
    try (JournalWriter w = JournalWriter.open(state, RUN)) {
      events.forEach(w::on);
    }
    Path journal = JournalWriter.runDir(state, RUN).resolve(JournalWriter.FILE);
    Files.writeString(
        journal, "{\"event\":\"step_finished\",\"host\":\"h1\",\"ph", StandardOpenOption.APPEND);
    try (JournalWriter w = JournalWriter.append(state, RUN)) {
      w.on(new RunResumed(T.plusMillis(60_000), RUN, "resume", "bob", "box2", List.of("h1")));
      w.on(new StepStarted(T.plusMillis(60_010), "h1", "deploy", 1, "Swap", "shell", false, null));
      w.on(
          new StepFinished(
              T.plusMillis(60_020),
              "h1",
              "deploy",
              1,
              "Swap",
              "shell",
              false,
              null,
              null,
              StepResult.changed("swapped")));
    }

    RunSummary run = JournalReader.read(journal);

    assertThat(run.damageNotes())
        .containsExactly(
            "journal cut short at line 3 (step_finished of h1) when its controller stopped");
    assertThat(run.hosts().get(0).steps())
        .extracting(StepRecord::name, StepRecord::status)
        .containsExactly(tuple("Swap", null), tuple("Swap", Status.CHANGED));
  }
}
