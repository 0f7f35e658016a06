package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.event.HostStarted;
import io.runbook.event.RunStarted;
import io.runbook.journal.DamagedJournalTest;
import io.runbook.journal.JournalWriter;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbook history} and {@code runbook show} over the journals of real runs
 * (engine/src/test/resources/journals): one rolled back on one host of four, one whose rollback
 * failed, one whose controller was killed mid-step.
 */
class HistoryShowTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String STATE = state();

  @TempDir Path tmp;

  static String state() {
    try {
      return Path.of(HistoryShowTest.class.getResource("/journals").toURI()).toString();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The run's start as history prints it: local time, so the test holds in any time zone. */
  static String local(String instant) {
    return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
        .withZone(ZoneId.systemDefault())
        .format(Instant.parse(instant));
  }

  @Test
  void historyListsRunsNewestFirstWithHowEachHostEnded() {
    Run r = Cli.run("history", "--state-dir", STATE);

    assertThat(r.code()).isZero();
    assertThat(r.out())
        .isEqualTo(
            """
        RUN ID                STARTED              RUNBOOK                   HOSTS  RESULT                                            DURATION
        20261121-214915-3fe5  %s  runbooks/upgrade-v2.yaml      4  3 ok, 1 rolled back                               195ms
        20261121-214903-3fd0  %s  runbooks/soak.yaml            4  interrupted (1 ok, 2 in progress, 1 not started)  406ms
        20261121-214714-3fc9  %s  runbooks/deploy.yaml          3  1 ok, 1 rolled back, 1 rollback failed            273ms
        """
                .formatted(
                    local("2026-11-21T21:49:15.395527713Z"),
                    local("2026-11-21T21:49:03.348894994Z"),
                    local("2026-11-21T21:47:14.768578041Z")));
  }

  @Test
  void historyLimitAndJson() throws Exception {
    Run limited = Cli.run("history", "--state-dir", STATE, "--last", "1");
    assertThat(limited.out().lines()).hasSize(3);
    assertThat(limited.out())
        .contains("20261121-214915-3fe5")
        .doesNotContain("20261121-214903-3fd0")
        .endsWith("(1 of 3 runs; -n 0 lists all)\n");

    JsonNode runs = JSON.readTree(Cli.run("history", "--state-dir", STATE, "--json").out());
    assertThat(runs.size()).isEqualTo(3);
    assertThat(runs.get(0).path("runId").asText()).isEqualTo("20261121-214915-3fe5");
    assertThat(runs.get(0).path("outcome").asText()).isEqualTo("ROLLED_BACK");
    assertThat(runs.get(0).path("hosts").get(3).path("outcome").asText()).isEqualTo("ROLLED_BACK");
    assertThat(runs.get(0).path("hosts").get(3).path("steps")).isEmpty();
    assertThat(runs.get(1).path("outcome").asText()).isEqualTo("INTERRUPTED");
    assertThat(runs.get(1).path("hosts").get(1).path("state").asText()).isEqualTo("IN_PROGRESS");
    assertThat(runs.get(1).path("hosts").get(1).path("inFlight").path("name").asText())
        .isEqualTo("Switch to the new release");
  }

  @Test
  void historyOfNoRuns() {
    Run r = Cli.run("history", "--state-dir", tmp.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("no runs in " + tmp.resolve("runs") + " yet");
  }

  @Test
  void showPrintsTheRecapOfARolledBackRun() {
    Run r = Cli.run("show", "20261121-214915-3fe5", "--state-dir", STATE);

    assertThat(r.code()).isZero();
    assertThat(r.out())
        .isEqualTo(
            """
        run 20261121-214915-3fe5 · rolled back
        runbook    runbooks/upgrade-v2.yaml · Upgrade the sample service to 2.0.0
        inventory  inventory/prod.yaml · 4 host(s) · forks 10
        started    %s by root on vm · took 195ms
        journal    %s

        HOST  MODE     RESULT       OK  CHANGED  FAILED  SKIPPED  UNDONE   TIME
        web1  binary   ok            2        2       0        0       0  125ms
        web2  binary   ok            2        2       0        0       0  120ms
        web3  binary   ok            2        2       0        0       0  123ms
        db1   compose  rolled back   1        1       1        0       1  135ms
          db1: 'Apply the 2.0.0 database migrations' failed: exit code 1: [ERROR] Reason: duplicate column name: thread_id
        """
                .formatted(
                    local("2026-11-21T21:49:15.395527713Z"),
                    Path.of(STATE, "runs", "20261121-214915-3fe5", "journal.jsonl")));
  }

  @Test
  void showStepsMarksRollbackStepsAndFailures() {
    Run r = Cli.run("show", "20261121-2147", "--state-dir", STATE, "--steps");

    assertThat(r.out())
        .contains(
            """
          web3: 'Deploy' failed: exit code 3
          web3: rollback stopped at 'Restore': exit code 4: broken
          web3: not undone: rollback phase: Health again
        A rollback failed: those hosts need a person.
        """);
    assertThat(r.out())
        .contains(
            """

        web2 · binary · rolled back
          preflight  Check                                        ok        28ms
          backup     Back up                                      changed   10ms
          deploy     Skip me                                      skipped   0ms
          deploy     Deploy                                       FAILED    29ms
                     exit code 3
          ↺ backup   Restore                                      changed   13ms
          ↺ rollback Health again                                 changed   7ms

        web3 · binary · rollback failed
        """);
    assertThat(r.out())
        .endsWith(
            """
          ↺ backup   Restore                                      FAILED    5ms
                     exit code 4: broken
        """);
  }

  @Test
  void showInterruptedRunSaysWhereEachHostWas() {
    Run r = Cli.run("show", "20261121-214903-3fd0", "--state-dir", STATE, "--steps");

    assertThat(r.out())
        .startsWith(
            "run 20261121-214903-3fd0 · interrupted: the journal ends before the run did (controller killed or lost)\n");
    assertThat(r.out())
        .contains("last event after 406ms\n")
        .contains("1 line(s) unreadable, skipped (a line cut short when the controller stopped)\n");
    assertThat(r.out())
        .contains(
            """
        HOST  MODE    RESULT       OK  CHANGED  FAILED  SKIPPED  UNDONE   TIME
        web1  binary  ok            1        2       0        0       0  287ms
        web2  binary  in progress   1        1       0        0       0  309ms
        web3  binary  in progress   1        1       0        0       0   12ms
        web4  -       not started   -        -       -        -       -      -
          web2: in progress: deploy step 'Switch to the new release' was running when the journal ends
          web3: in progress: deploy step 'Switch to the new release' was running when the journal ends
        """);
    assertThat(r.out())
        .contains(
            """
        web2 · binary · in progress
          preflight  Check                                        ok        165ms
          backup     Back up                                      changed   9ms
          deploy     Switch to the new release                    running
        """);
    assertThat(r.out()).endsWith("web4 · - · not started\n  (no steps)\n");
  }

  @Test
  void showJsonHasTheStepsInOrder() throws Exception {
    JsonNode run =
        JSON.readTree(Cli.run("show", "20261121-214915", "--state-dir", STATE, "--json").out());
    assertThat(run.path("outcome").asText()).isEqualTo("ROLLED_BACK");
    JsonNode db1 = run.path("hosts").get(3);
    assertThat(db1.path("failedStep").asText()).isEqualTo("Apply the 2.0.0 database migrations");
    assertThat(db1.path("steps").size()).isEqualTo(4);
    assertThat(db1.path("steps").get(3).path("rollback").asBoolean()).isTrue();
    assertThat(db1.path("steps").get(3).path("forStep").asText()).isEqualTo("Back up the database");
  }

  @Test
  void showNamesEachDamagedLineAnOrphanedCommandAndALostLock() throws Exception {
    DamagedJournalTest.damagedRun(tmp);

    Run r = Cli.run("show", "20261206-100000", "--state-dir", tmp.toString());

    assertThat(r.out())
        .contains(
            """
                   2 line(s) unreadable, skipped:
                     journal damaged at line 8 (step_finished of h2): what happened there is unknown
                     journal cut short at line 13 (run_finished) when its controller stopped
        """);
    assertThat(r.out())
        .contains(
            """
          h1: rollback stopped at not rolled back: lock lost
          lost the lock of h1 to run 20261206-100500-n3w0 (bob@box2): stopped changing that host
          run 20261206-090000-0ld0's command was still running on h2: waited 3s, stopped it
        """);

    JsonNode json =
        JSON.readTree(
            Cli.run("show", "20261206-100000", "--state-dir", tmp.toString(), "--json").out());
    assertThat(json.path("unreadableLines").asInt()).isEqualTo(2);
    JsonNode damage = json.path("damage").get(0);
    assertThat(damage.path("line").asInt()).isEqualTo(8);
    assertThat(damage.path("eventType").asText()).isEqualTo("step_finished");
    assertThat(damage.path("host").asText()).isEqualTo("h2");
    assertThat(damage.path("torn").asBoolean()).isFalse();
    assertThat(json.path("damage").get(1).path("torn").asBoolean()).isTrue();
    assertThat(json.path("hosts").get(1).path("orphans").get(0).path("action").asText())
        .isEqualTo("stopped");
    assertThat(json.path("hosts").get(0).path("lockLostTo").asText())
        .isEqualTo("20261206-100500-n3w0 (bob@box2)");
  }

  @Test
  void showNamesTenDamagedLinesAndCountsTheRest() throws Exception {
    Instant t = Instant.parse("2026-12-06T10:00:00Z");
    try (JournalWriter w = JournalWriter.open(tmp, "r-garbage")) {
      w.on(
          new RunStarted(
              t,
              "r-garbage",
              "rb.yaml",
              null,
              "inv.yaml",
              List.of("h1"),
              1,
              "ann",
              "box1",
              List.of(List.of("h1")),
              null));
    }
    Path journal = tmp.resolve("runs/r-garbage/journal.jsonl");
    Files.writeString(journal, "\u0000\u0000\u0000\n".repeat(15), StandardOpenOption.APPEND);
    try (JournalWriter w = JournalWriter.append(tmp, "r-garbage")) {
      w.on(new HostStarted(t, "h1", "binary", "h1"));
    }

    String out = Cli.run("show", "r-garbage", "--state-dir", tmp.toString()).out();

    assertThat(out)
        .contains("15 line(s) unreadable, skipped:\n")
        .contains("journal damaged at line 2: what happened there is unknown\n")
        .contains("journal damaged at line 11: what happened there is unknown\n")
        .doesNotContain("line 12:")
        .contains("             ... and 5 more (--json lists every one)\n");
  }

  @Test
  void unknownRunIdIsInvalidInputNamingTheNewestRuns() throws Exception {
    Run unknown = Cli.run("show", "20991231", "--state-dir", STATE);
    assertThat(unknown.code()).isEqualTo(ErrorCode.INVALID_INPUT.exitCode());
    assertThat(unknown.out()).isEmpty();
    assertThat(unknown.err().strip())
        .startsWith("runbook: ")
        .contains("no run '20991231'")
        .endsWith(
            "the newest are: 20261121-214915-3fe5, 20261121-214903-3fd0, 20261121-214714-3fc9 "
                + "(see 'runbook history')");
    Run ambiguous = Cli.run("show", "2026", "--state-dir", STATE);
    assertThat(ambiguous.code()).isEqualTo(ErrorCode.INVALID_INPUT.exitCode());
    assertThat(ambiguous.err())
        .isEqualTo(
            "runbook: '2026' matches 3 runs: 20261121-214915-3fe5, 20261121-214903-3fd0,"
                + " 20261121-214714-3fc9; give more of the run id\n");
    Files.createDirectories(tmp.resolve("runs"));
    Run none = Cli.run("show", "x", "--state-dir", tmp.toString());
    assertThat(none.code()).isEqualTo(ErrorCode.INVALID_INPUT.exitCode());
    assertThat(none.err()).contains("there are no runs in");
  }
}
