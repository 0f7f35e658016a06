package io.runbook.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.journal.HostSummary.State;
import io.runbook.journal.RunSummary.RunOutcome;
import io.runbook.result.Outcome;
import io.runbook.result.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journals written by real runs (engine/src/test/resources/journals): a fleet upgrade with a host
 * rolled back (plus two event types from a newer engine), a run whose rollback failed, and a run
 * whose controller was killed mid-step, its last line cut inside a UTF-8 character.
 */
class JournalReaderTest {
  static final Path STATE = fixtures();
  static final String ROLLED_BACK = "20261121-214915-3fe5";
  static final String INTERRUPTED = "20261121-214903-3fd0";
  static final String ROLLBACK_FAILED = "20261121-214714-3fc9";

  @TempDir Path tmp;

  static Path fixtures() {
    try {
      return Path.of(JournalReaderTest.class.getResource("/journals").toURI());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static RunSummary fixture(String id) {
    return JournalReader.read(STATE.resolve("runs").resolve(id).resolve(JournalReader.FILE));
  }

  @Test
  void completeRunWithARolledBackHost() {
    RunSummary run = fixture(ROLLED_BACK);

    assertThat(run.runId()).isEqualTo(ROLLED_BACK);
    assertThat(run.runbook()).isEqualTo("runbooks/upgrade-v2.yaml");
    assertThat(run.runbookName()).isEqualTo("Upgrade the sample service to 2.0.0");
    assertThat(run.inventory()).isEqualTo("inventory/prod.yaml");
    assertThat(run.user()).isEqualTo("root");
    assertThat(run.controller()).isEqualTo("vm");
    assertThat(run.forks()).isEqualTo(10);
    assertThat(run.started()).isEqualTo(Instant.parse("2026-11-21T21:49:15.395527713Z"));
    assertThat(run.durationMillis()).isEqualTo(195);
    assertThat(run.outcome()).isEqualTo(RunOutcome.ROLLED_BACK);
    assertThat(run.unreadableLines())
        .as("lock_taken and batch_started are ignored, not unreadable")
        .isZero();
    assertThat(run.tally()).isEqualTo("3 ok, 1 rolled back");
    assertThat(run.hosts())
        .extracting(HostSummary::host, HostSummary::mode, HostSummary::state, HostSummary::result)
        .containsExactly(
            tuple("web1", "binary", State.FINISHED, "ok"),
            tuple("web2", "binary", State.FINISHED, "ok"),
            tuple("web3", "binary", State.FINISHED, "ok"),
            tuple("db1", "compose", State.FINISHED, "rolled back"));

    HostSummary db1 = run.hosts().get(3);
    assertThat(db1.outcome()).isEqualTo(Outcome.ROLLED_BACK);
    assertThat(db1.failedStep()).isEqualTo("Apply the 2.0.0 database migrations");
    assertThat(db1.message())
        .isEqualTo("exit code 1: [ERROR] Reason: duplicate column name: thread_id");
    assertThat(db1.rollbackError()).isNull();
    assertThat(db1.notUndone()).isEmpty();
    assertThat(new int[] {db1.ok(), db1.changed(), db1.failed(), db1.skipped(), db1.undone()})
        .containsExactly(1, 1, 1, 0, 1);
    assertThat(db1.durationMillis()).isEqualTo(135);
    assertThat(db1.inFlight()).isNull();
    assertThat(db1.steps())
        .extracting(
            StepRecord::phase,
            StepRecord::name,
            StepRecord::status,
            StepRecord::rollback,
            StepRecord::forStep)
        .containsExactly(
            tuple("preflight", "Read the installed version", Status.OK, false, null),
            tuple("backup", "Back up the database", Status.CHANGED, false, null),
            tuple("migrate", "Apply the 2.0.0 database migrations", Status.FAILED, false, null),
            tuple("backup", "Restore the database", Status.CHANGED, true, "Back up the database"));
    StepRecord failed = db1.steps().get(2);
    assertThat(failed.message()).isEqualTo(db1.message());
    assertThat(failed.startedAt()).isEqualTo(Instant.parse("2026-11-21T21:49:15.548160686Z"));
    assertThat(failed.attempts()).isEqualTo(1);
  }

  @Test
  void failedRollbackNamesWhatWasNotUndone() {
    RunSummary run = fixture(ROLLBACK_FAILED);

    assertThat(run.outcome()).isEqualTo(RunOutcome.ROLLBACK_FAILED);
    assertThat(run.tally()).isEqualTo("1 ok, 1 rolled back, 1 rollback failed");
    HostSummary web2 = run.hosts().get(1);
    HostSummary web3 = run.hosts().get(2);
    assertThat(web2.undone()).isEqualTo(2);
    assertThat(web2.steps())
        .filteredOn(StepRecord::rollback)
        .extracting(StepRecord::phase, StepRecord::name)
        .containsExactly(tuple("backup", "Restore"), tuple("rollback", "Health again"));
    assertThat(web3.outcome()).isEqualTo(Outcome.ROLLBACK_FAILED);
    assertThat(web3.failedStep()).isEqualTo("Deploy");
    assertThat(web3.rollbackError()).isEqualTo("'Restore': exit code 4: broken");
    assertThat(web3.notUndone()).containsExactly("rollback phase: Health again");
    assertThat(web3.undone()).isZero();
  }

  @Test
  void journalCutMidLineIsAnInterruptedRunWithHostsInProgress() {
    RunSummary run = fixture(INTERRUPTED);

    assertThat(run.outcome()).isEqualTo(RunOutcome.INTERRUPTED);
    assertThat(run.unreadableLines()).isEqualTo(1);
    assertThat(run.runbookName()).isEqualTo("Upgrade with a soak");
    assertThat(run.forks()).isEqualTo(2);
    // from run_started to the last complete event (web3's step_started)
    assertThat(run.durationMillis()).isEqualTo(406);
    assertThat(run.tally()).isEqualTo("interrupted (1 ok, 2 in progress, 1 not started)");
    assertThat(run.hosts())
        .extracting(HostSummary::host, HostSummary::state, HostSummary::result)
        .containsExactly(
            tuple("web1", State.FINISHED, "ok"),
            tuple("web2", State.IN_PROGRESS, "in progress"),
            tuple("web3", State.IN_PROGRESS, "in progress"),
            tuple("web4", State.NOT_STARTED, "not started"));

    HostSummary web2 = run.hosts().get(1);
    assertThat(web2.outcome()).isNull();
    assertThat(web2.inFlight()).isNotNull();
    assertThat(web2.inFlight().phase()).isEqualTo("deploy");
    assertThat(web2.inFlight().name()).isEqualTo("Switch to the new release");
    assertThat(web2.inFlight().inFlight()).isTrue();
    assertThat(web2.steps())
        .extracting(StepRecord::name, StepRecord::status)
        .containsExactly(
            tuple("Check", Status.OK),
            tuple("Back up", Status.CHANGED),
            tuple("Switch to the new release", null));
    assertThat(new int[] {web2.ok(), web2.changed(), web2.failed(), web2.skipped(), web2.undone()})
        .containsExactly(1, 1, 0, 0, 0);
    // host_started 21:49:03.445706384 to the journal's last event 21:49:03.755468048
    assertThat(web2.durationMillis()).isEqualTo(309);

    HostSummary web4 = run.hosts().get(3);
    assertThat(web4.inFlight()).isNull();
    assertThat(web4.steps()).isEmpty();
    assertThat(web4.mode()).isNull();
  }

  @Test
  void listIsNewestFirst() {
    assertThat(JournalReader.list(STATE))
        .extracting(RunSummary::runId)
        .containsExactly(ROLLED_BACK, INTERRUPTED, ROLLBACK_FAILED);
    assertThat(JournalReader.list(tmp.resolve("nothing-here"))).isEmpty();
  }

  @Test
  void findTakesAnIdOrAUniquePrefix() {
    assertThat(JournalReader.find(STATE, ROLLBACK_FAILED).runId()).isEqualTo(ROLLBACK_FAILED);
    assertThat(JournalReader.find(STATE, "20261121-2147").runId()).isEqualTo(ROLLBACK_FAILED);
    assertThat(JournalReader.find(STATE, "20261121-214903").runId()).isEqualTo(INTERRUPTED);

    assertThatThrownBy(() -> JournalReader.find(STATE, "20261121-2149"))
        .isInstanceOfSatisfying(
            RunbookException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessage(
            "'20261121-2149' matches 2 runs: 20261121-214915-3fe5, 20261121-214903-3fd0; give more of the run id");
    assertThatThrownBy(() -> JournalReader.find(STATE, "20251231"))
        .isInstanceOfSatisfying(
            RunbookException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessage(
            "no run '20251231' in "
                + STATE.resolve("runs")
                + "; the newest are: "
                + ROLLED_BACK
                + ", "
                + INTERRUPTED
                + ", "
                + ROLLBACK_FAILED
                + " (see 'runbook history')");
    assertThatThrownBy(() -> JournalReader.find(STATE, "../runs"))
        .isInstanceOfSatisfying(
            RunbookException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT));
    assertThatThrownBy(() -> JournalReader.find(tmp, "x"))
        .hasMessageContaining("there are no runs in " + tmp.resolve("runs"));
  }

  @Test
  void lastIsTheNewestRun() {
    assertThat(JournalReader.find(STATE, "last").runId()).isEqualTo(ROLLED_BACK);
    assertThatThrownBy(() -> JournalReader.find(tmp, "last"))
        .isInstanceOfSatisfying(
            RunbookException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessage(
            "no runs in "
                + tmp.resolve("runs")
                + " yet, so no 'last' run (pass --state-dir if the runs were "
                + "journaled elsewhere)");
  }

  @Test
  void emptyOrGarbledJournalIsStillARun() throws Exception {
    Path empty = journal("20261122-080000-aaaa", "");
    RunSummary run = JournalReader.read(empty);
    assertThat(run.runId()).isEqualTo("20261122-080000-aaaa");
    assertThat(run.outcome()).isEqualTo(RunOutcome.INTERRUPTED);
    assertThat(run.hosts()).isEmpty();
    assertThat(run.tally()).isEqualTo("interrupted");

    Path cut =
        journal("20261122-080000-bbbb", "{\"event\":\"run_started\",\"at\":\"2026-11-22T08:00");
    assertThat(JournalReader.read(cut).unreadableLines()).isEqualTo(1);
    assertThat(JournalReader.list(tmp))
        .extracting(RunSummary::runId)
        .contains("20261122-080000-aaaa", "20261122-080000-bbbb");
  }

  @Test
  void newerEngineFieldsAndOutcomesAreTakenAsTheyCome() throws Exception {
    Path f =
        journal(
            "20261122-090000-cccc",
            """
        {"event":"run_started","at":"2026-11-22T09:00:00Z","runId":"20261122-090000-cccc","runbook":"r.yaml","hosts":["a","b","c"],"batches":[["a"],["b","c"]]}
        {"event":"host_started","at":"2026-11-22T09:00:01Z","host":"a","mode":"binary","target":"a"}
        {"event":"host_finished","at":"2026-11-22T09:00:02Z","result":{"host":"a","mode":"binary","outcome":"UNDONE","ok":2,"changed":1,"failed":0,"skipped":0,"rolledBack":1,"durationMillis":1000}}
        {"event":"host_started","at":"2026-11-22T09:00:03Z","host":"b","mode":"binary","target":"b"}
        {"event":"host_finished","at":"2026-11-22T09:00:04Z","result":{"host":"b","mode":"binary","outcome":"PAUSED_FOR_APPROVAL","ok":0,"changed":0,"failed":0,"skipped":0,"rolledBack":0,"durationMillis":5}}
        {"event":"run_finished","at":"2026-11-22T09:00:05Z","result":{"runId":"20261122-090000-cccc","hosts":[{"host":"a","outcome":"UNDONE"},{"host":"b","outcome":"PAUSED_FOR_APPROVAL"},{"host":"c","mode":"binary","outcome":"NOT_RUN","ok":0,"changed":0,"failed":0,"skipped":0,"rolledBack":0,"durationMillis":0}],"durationMillis":5000,"stopped":"batch 1 failed its health gate","interrupted":false}}
        """);
    RunSummary run = JournalReader.read(f);

    assertThat(run.outcome()).isEqualTo(RunOutcome.ROLLED_BACK);
    assertThat(run.stopped()).isEqualTo("batch 1 failed its health gate");
    assertThat(run.durationMillis()).isEqualTo(5000);
    assertThat(run.hosts())
        .extracting(HostSummary::host, HostSummary::outcome, HostSummary::result)
        .containsExactly(
            tuple("a", Outcome.UNDONE, "undone"),
            tuple("b", null, "paused for approval"),
            tuple("c", Outcome.NOT_RUN, "not run"));
    assertThat(run.hosts().get(0).undone()).isEqualTo(1);
  }

  @Test
  void runFinishedAfterCtrlCIsInterruptedToo() throws Exception {
    Path f =
        journal(
            "20261122-100000-dddd",
            """
        {"event":"run_started","at":"2026-11-22T10:00:00Z","runId":"20261122-100000-dddd","hosts":["a"]}
        {"event":"host_finished","at":"2026-11-22T10:00:02Z","result":{"host":"a","outcome":"ROLLED_BACK","rolledBack":3}}
        {"event":"run_finished","at":"2026-11-22T10:00:05Z","result":{"hosts":[],"durationMillis":5000,"interrupted":true}}
        """);
    RunSummary run = JournalReader.read(f);
    assertThat(run.outcome()).isEqualTo(RunOutcome.INTERRUPTED);
    assertThat(run.tally()).isEqualTo("interrupted (1 rolled back)");
    assertThat(run.hosts().get(0).undone()).isEqualTo(3);
  }

  @Test
  void summaryAsJsonOmitsStepsOnlyWhenAsked() throws Exception {
    RunSummary run = fixture(ROLLED_BACK);
    @SuppressWarnings("unchecked")
    Map<String, Object> full = EventJson.mapper().convertValue(run, Map.class);
    assertThat(full)
        .containsEntry("outcome", "ROLLED_BACK")
        .containsEntry("runId", ROLLED_BACK)
        .containsEntry(
            "journal",
            STATE.resolve("runs").resolve(ROLLED_BACK).resolve("journal.jsonl").toString());
    assertThat(run.hosts().get(3).steps()).hasSize(4);
    assertThat(run.withoutSteps().hosts()).allSatisfy(h -> assertThat(h.steps()).isEmpty());
  }

  private Path journal(String id, String text) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("runs").resolve(id));
    return Files.writeString(dir.resolve(JournalReader.FILE), text, StandardCharsets.UTF_8);
  }
}
