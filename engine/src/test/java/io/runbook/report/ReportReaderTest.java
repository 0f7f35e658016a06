package io.runbook.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.runbook.journal.DamagedJournalTest;
import io.runbook.journal.JournalEvents;
import io.runbook.journal.RunSummary.RunOutcome;
import io.runbook.report.RunReport.Host;
import io.runbook.report.RunReport.Kind;
import io.runbook.report.RunReport.Step;
import io.runbook.result.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's model from hand-written journal lines, each event at a known offset from the run's
 * start: bars, batches, gates, rollbacks in the order they ran, locks, resumes, a journal cut
 * short.
 */
class ReportReaderTest {
  static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

  @TempDir Path tmp;

  /** Journal lines with {@code at} = T0 + ms. */
  static final class Journal {
    final List<String> lines = new ArrayList<>();

    Journal at(long ms, String event, String fields) {
      lines.add(
          "{\"event\":\""
              + event
              + "\",\"at\":\""
              + T0.plusMillis(ms)
              + "\""
              + (fields.isEmpty() ? "" : "," + fields)
              + "}");
      return this;
    }

    Journal step(
        String host,
        String phase,
        int index,
        String name,
        long from,
        long to,
        String status,
        String result) {
      String common =
          "\"host\":\""
              + host
              + "\",\"phase\":\""
              + phase
              + "\",\"index\":"
              + index
              + ",\"name\":\""
              + name
              + "\",\"type\":\"shell\",\"rollback\":false";
      at(from, "step_started", common);
      return at(
          to,
          "step_finished",
          common
              + ",\"result\":{\"status\":\""
              + status
              + "\",\"durationMillis\":"
              + (to - from)
              + ",\"attempts\":1"
              + (result.isEmpty() ? "" : "," + result)
              + "}");
    }

    Journal undo(
        String host, String phase, String name, String forStep, long from, long to, String status) {
      String common =
          "\"host\":\""
              + host
              + "\",\"phase\":\""
              + phase
              + "\",\"index\":0,\"name\":\""
              + name
              + "\",\"type\":\"shell\",\"rollback\":true"
              + (forStep == null ? "" : ",\"forStep\":\"" + forStep + "\"");
      at(from, "step_started", common);
      return at(
          to,
          "step_finished",
          common
              + ",\"result\":{\"status\":\""
              + status
              + "\",\"durationMillis\":"
              + (to - from)
              + ",\"attempts\":1}");
    }

    Path write(Path dir) throws Exception {
      Path f = Files.createDirectories(dir).resolve("journal.jsonl");
      Files.write(f, lines);
      return f;
    }
  }

  static String hostResult(
      String host, String outcome, int ok, int changed, int failed, int undone, long ms) {
    return "{\"host\":\""
        + host
        + "\",\"outcome\":\""
        + outcome
        + "\",\"ok\":"
        + ok
        + ",\"changed\":"
        + changed
        + ",\"failed\":"
        + failed
        + ",\"skipped\":0,\"rolledBack\":"
        + undone
        + ",\"durationMillis\":"
        + ms
        + "}";
  }

  /**
   * A canary batch [a], then [b, c] where c fails its migration and rolls back; b passes the gate.
   */
  static Journal fleet() {
    Journal j =
        new Journal()
            .at(
                0,
                "run_started",
                "\"runId\":\"r1\",\"runbook\":\"up.yaml\",\"runbookName\":\"Up\",\"inventory\":\"prod\","
                    + "\"hosts\":[\"a\",\"b\",\"c\"],\"forks\":10,\"user\":\"ann\",\"controller\":\"laptop\"");
    for (String h : List.of("a", "b", "c")) {
      j.at(
          10,
          "host_started",
          "\"host\":\"" + h + "\",\"mode\":\"binary\",\"target\":\"" + h + "\"");
      j.at(20, "lock_changed", "\"host\":\"" + h + "\",\"action\":\"taken\"");
      j.step(h, "preflight", 1, "Check", 30, 40, "OK", "\"rc\":0,\"stdout\":\"1.2.3\\n\"");
    }
    j.at(100, "batch_started", "\"batch\":1,\"batches\":2,\"hosts\":[\"a\"]")
        .step("a", "backup", 2, "Back up", 100, 150, "CHANGED", "")
        .step("a", "migrate", 3, "Migrate", 150, 400, "CHANGED", "")
        .step("a", "gate", 0, "Health", 400, 450, "OK", "")
        .at(452, "host_finished", "\"result\":" + hostResult("a", "SUCCEEDED", 2, 2, 0, 0, 442))
        .at(
            460,
            "batch_finished",
            "\"batch\":1,\"hosts\":[\"a\"],\"failed\":[],\"decision\":\"continue\"")
        .at(500, "batch_started", "\"batch\":2,\"batches\":2,\"hosts\":[\"b\",\"c\"]")
        .step("b", "backup", 2, "Back up", 500, 510, "CHANGED", "")
        .step("c", "backup", 2, "Back up", 500, 520, "CHANGED", "")
        .step("b", "migrate", 3, "Migrate", 510, 700, "CHANGED", "")
        .step(
            "c",
            "migrate",
            3,
            "Migrate",
            520,
            600,
            "FAILED",
            "\"rc\":1,\"stdout\":\"applying 0007\\n\",\"stderr\":\"duplicate column\\n\","
                + "\"message\":\"exit code 1: duplicate column\"")
        .at(
            605,
            "rollback_started",
            "\"host\":\"c\",\"failedStep\":\"Migrate\",\"reason\":\"exit code 1\","
                + "\"stack\":[\"Back up ← Restore\",\"rollback phase: Health again\"]")
        .undo("c", "backup", "Restore", "Back up", 610, 640, "CHANGED")
        .undo("c", "rollback", "Health again", null, 640, 650, "OK")
        .at(655, "rollback_finished", "\"host\":\"c\",\"succeeded\":true,\"notUndone\":[]")
        .at(
            660,
            "host_finished",
            "\"result\":"
                + hostResult("c", "ROLLED_BACK", 1, 1, 1, 2, 650)
                    .replace(
                        "}",
                        ",\"failedStep\":\"Migrate\",\"message\":\"exit code 1: duplicate column\"}"))
        .step("b", "gate", 0, "Health", 700, 760, "OK", "")
        .at(770, "host_finished", "\"result\":" + hostResult("b", "SUCCEEDED", 2, 2, 0, 0, 760))
        .at(
            780,
            "batch_finished",
            "\"batch\":2,\"hosts\":[\"b\",\"c\"],\"failed\":[\"c\"],\"decision\":\"done\","
                + "\"reason\":\"1 of 2 host(s) failed in batch 2\"");
    for (String h : List.of("a", "b", "c"))
      j.at(800, "lock_changed", "\"host\":\"" + h + "\",\"action\":\"released\"");
    return j.at(
        1000,
        "run_finished",
        "\"result\":{\"runId\":\"r1\",\"hosts\":["
            + hostResult("a", "SUCCEEDED", 2, 2, 0, 0, 442)
            + ","
            + hostResult("b", "SUCCEEDED", 2, 2, 0, 0, 760)
            + ","
            + hostResult("c", "ROLLED_BACK", 1, 1, 1, 2, 650)
            + "],\"durationMillis\":1000,\"interrupted\":false}");
  }

  static Host host(RunReport r, String name) {
    return r.hosts().stream().filter(h -> h.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void stepsBecomeBarsAtTheirOffsetsFromTheRunStart() throws Exception {
    RunReport r = ReportReader.read(fleet().write(tmp.resolve("runs/r1")));

    assertThat(r.started()).isEqualTo(T0);
    assertThat(r.ended()).isEqualTo(T0.plusMillis(1000));
    assertThat(r.spanMillis()).isEqualTo(1000);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.summary().outcome()).isEqualTo(RunOutcome.ROLLED_BACK);
    assertThat(r.hosts())
        .extracting(Host::name, Host::mode, Host::batch, Host::startMillis, Host::endMillis)
        .containsExactly(
            tuple("a", "binary", 1, 10L, 452L),
            tuple("b", "binary", 2, 10L, 770L),
            tuple("c", "binary", 2, 10L, 660L));
    assertThat(host(r, "a").steps())
        .extracting(
            Step::phase,
            Step::name,
            Step::kind,
            Step::status,
            Step::startMillis,
            Step::endMillis,
            Step::durationMillis)
        .containsExactly(
            tuple("preflight", "Check", Kind.STEP, Status.OK, 30L, 40L, 10L),
            tuple("backup", "Back up", Kind.STEP, Status.CHANGED, 100L, 150L, 50L),
            tuple("migrate", "Migrate", Kind.STEP, Status.CHANGED, 150L, 400L, 250L),
            tuple("gate", "Health", Kind.GATE, Status.OK, 400L, 450L, 50L));
    assertThat(host(r, "a").steps().get(0).stdout()).isEqualTo("1.2.3\n");
    assertThat(host(r, "a").steps().get(0).rc()).isZero();
    assertThat(r.hosts().stream().flatMap(h -> h.steps().stream()).map(Step::id))
        .as("every step has its own id, for links from the timeline")
        .hasSize(13)
        .doesNotHaveDuplicates();
  }

  @Test
  void batchesGroupTheirHostsWithHowEachEnded() throws Exception {
    RunReport r = ReportReader.read(fleet().write(tmp.resolve("runs/r1")));

    assertThat(r.batches())
        .extracting(
            RunReport.Batch::number,
            RunReport.Batch::of,
            RunReport.Batch::hosts,
            RunReport.Batch::startMillis,
            RunReport.Batch::endMillis,
            RunReport.Batch::failed,
            RunReport.Batch::decision)
        .containsExactly(
            tuple(1, 2, List.of("a"), 100L, 460L, List.of(), "continue"),
            tuple(2, 2, List.of("b", "c"), 500L, 780L, List.of("c"), "done"));
    assertThat(r.batches().get(1).reason()).isEqualTo("1 of 2 host(s) failed in batch 2");
  }

  @Test
  void aRollbackKeepsTheOrderItsHandlersRanIn() throws Exception {
    RunReport r = ReportReader.read(fleet().write(tmp.resolve("runs/r1")));
    Host c = host(r, "c");

    assertThat(c.steps())
        .extracting(Step::name, Step::kind, Step::status, Step::forStep, Step::startMillis)
        .containsExactly(
            tuple("Check", Kind.STEP, Status.OK, null, 30L),
            tuple("Back up", Kind.STEP, Status.CHANGED, null, 500L),
            tuple("Migrate", Kind.STEP, Status.FAILED, null, 520L),
            tuple("Restore", Kind.ROLLBACK, Status.CHANGED, "Back up", 610L),
            tuple("Health again", Kind.ROLLBACK, Status.OK, null, 640L));
    Step failed = c.steps().get(2);
    assertThat(failed.message()).isEqualTo("exit code 1: duplicate column");
    assertThat(failed.stderr()).isEqualTo("duplicate column\n");
    assertThat(failed.rc()).isEqualTo(1);
    assertThat(c.rollbacks())
        .singleElement()
        .satisfies(
            rb -> {
              assertThat(rb.startMillis()).isEqualTo(605);
              assertThat(rb.endMillis()).isEqualTo(655);
              assertThat(rb.failedStep()).isEqualTo("Migrate");
              assertThat(rb.stack())
                  .containsExactly("Back up ← Restore", "rollback phase: Health again");
              assertThat(rb.succeeded()).isTrue();
            });
    assertThat(c.recap().result()).isEqualTo("rolled back");
    assertThat(c.recap().undone()).isEqualTo(2);
    assertThat(c.events())
        .extracting(RunReport.Marker::atMillis, RunReport.Marker::text)
        .containsExactly(tuple(20L, "taken"), tuple(800L, "released"));
  }

  @Test
  void aJournalCutShortLeavesTheStepInFlightUntilItsLastEvent() throws Exception {
    Journal j =
        new Journal()
            .at(0, "run_started", "\"runId\":\"r2\",\"hosts\":[\"a\",\"b\"]")
            .at(5, "host_started", "\"host\":\"a\"")
            .step("a", "deploy", 1, "Swap", 10, 30, "CHANGED", "")
            .at(
                40,
                "step_started",
                "\"host\":\"a\",\"phase\":\"deploy\",\"index\":2,\"name\":\"Restart\",\"rollback\":false")
            .at(
                90,
                "lock_changed",
                "\"host\":\"b\",\"action\":\"took_over\",\"from\":\"run r0 (bob@old)\"");
    j.lines.add("{\"event\":\"step_fini"); // the controller died mid-line
    RunReport r = ReportReader.read(j.write(tmp.resolve("runs/r2")));

    assertThat(r.ended()).isNull();
    assertThat(r.exitCode()).isNull();
    assertThat(r.spanMillis()).isEqualTo(90);
    assertThat(r.summary().outcome()).isEqualTo(RunOutcome.INTERRUPTED);
    Step inFlight = host(r, "a").steps().get(1);
    assertThat(inFlight.inFlight()).isTrue();
    assertThat(inFlight.startMillis()).isEqualTo(40);
    assertThat(inFlight.endMillis()).as("runs to the journal's last event").isEqualTo(90);
    assertThat(host(r, "a").endMillis()).isNull();
    assertThat(host(r, "b").startMillis()).isNull();
    assertThat(host(r, "b").events())
        .extracting(RunReport.Marker::text)
        .containsExactly("took_over from run r0 (bob@old)");
    assertThat(TimelineSvg.render(r))
        .contains("<title>b: lock took over from run r0 (bob@old) at +90ms</title>");
  }

  @Test
  void barsNeverEndBeforeTheyStartAndAResumeIsMarked() throws Exception {
    Journal j =
        new Journal()
            .at(0, "run_started", "\"runId\":\"r3\",\"hosts\":[\"a\"]")
            // another thread's clock: finished stamped 2 ms before it started
            .at(
                50,
                "step_started",
                "\"host\":\"a\",\"phase\":\"deploy\",\"index\":1,\"name\":\"Swap\",\"rollback\":false")
            .at(
                48,
                "step_finished",
                "\"host\":\"a\",\"phase\":\"deploy\",\"index\":1,\"name\":\"Swap\",\"rollback\":false,"
                    + "\"result\":{\"status\":\"CHANGED\",\"durationMillis\":1}")
            .at(
                5000,
                "run_resumed",
                "\"runId\":\"r3\",\"action\":\"resume\",\"user\":\"ann\",\"controller\":\"box2\"");
    RunReport r = ReportReader.read(j.write(tmp.resolve("runs/r3")));

    Step s = r.hosts().get(0).steps().get(0);
    assertThat(s.endMillis()).isEqualTo(s.startMillis()).isEqualTo(50);
    assertThat(r.markers())
        .extracting(RunReport.Marker::atMillis, RunReport.Marker::kind, RunReport.Marker::text)
        .containsExactly(tuple(5000L, "resume", "ann@box2"));
  }

  @Test
  void aResumedRunEndsTheStepCutShortAndItsSilenceIsIdleButASoakIsNot() throws Exception {
    Journal j =
        new Journal()
            .at(0, "run_started", "\"runId\":\"r4\",\"hosts\":[\"a\",\"b\"]")
            .step(
                "b", "gate", 0, "Soak", 10, 30_010, "OK", "") // a minute-long pause: busy, not idle
            .step("a", "deploy", 1, "Swap", 10, 20, "CHANGED", "")
            .at(
                40,
                "step_started",
                "\"host\":\"a\",\"phase\":\"deploy\",\"index\":2,\"name\":\"Restart\",\"rollback\":false")
            .at(45, "lock_changed", "\"host\":\"a\",\"action\":\"taken\"")
            // the controller died; an hour later another resumes the run and runs the step again
            .at(3_600_000, "run_resumed", "\"runId\":\"r4\",\"action\":\"resume\",\"user\":\"bob\"")
            .step("a", "deploy", 2, "Restart", 3_600_010, 3_600_050, "CHANGED", "");
    RunReport r = ReportReader.read(j.write(tmp.resolve("runs/r4")));

    List<Step> a = host(r, "a").steps();
    assertThat(a)
        .extracting(Step::name, Step::status, Step::startMillis, Step::endMillis)
        .containsExactly(
            tuple("Swap", Status.CHANGED, 10L, 20L),
            tuple("Restart", null, 40L, 45L),
            tuple("Restart", Status.CHANGED, 3_600_010L, 3_600_050L));
    assertThat(r.idle())
        .extracting(RunReport.Idle::fromMillis, RunReport.Idle::toMillis)
        .containsExactly(tuple(30_010L, 3_600_000L));

    String svg = TimelineSvg.render(r);
    assertThat(svg).contains(">59m30s later</text>");
    assertThat(svg)
        .as("the hour shrinks to a band 1/25 of the rest; the first 30 s keep the plot")
        .contains("<rect x=\"1240\" y=\"24\" width=\"42\" height=\"64\" fill=\"url(#idle)\"/>")
        .contains(">+25s</text>");
  }

  @Test
  void aBatchAnOlderEngineStartedAgainOnResumeIsListedOnce() throws Exception {
    Journal j =
        new Journal()
            .at(0, "run_started", "\"runId\":\"r5\",\"hosts\":[\"a\",\"b\"]")
            .at(10, "batch_started", "\"batch\":1,\"batches\":2,\"hosts\":[\"a\"]")
            .step("a", "deploy", 1, "Swap", 10, 20, "CHANGED", "")
            .at(
                30,
                "batch_finished",
                "\"batch\":1,\"hosts\":[\"a\"],\"failed\":[],\"decision\":\"continue\"")
            .at(40, "batch_started", "\"batch\":2,\"batches\":2,\"hosts\":[\"b\"]")
            .at(50, "lock_changed", "\"host\":\"b\",\"action\":\"lost\",\"from\":\"r9 (bob@box2)\"")
            // the controller died; an older engine's resume started both batches again
            .at(1_000, "run_resumed", "\"runId\":\"r5\",\"action\":\"resume\"")
            .at(1_010, "batch_started", "\"batch\":1,\"batches\":2,\"hosts\":[\"a\"]")
            .at(
                1_020,
                "batch_finished",
                "\"batch\":1,\"hosts\":[\"a\"],\"failed\":[],\"decision\":\"continue\"")
            .at(1_030, "batch_started", "\"batch\":2,\"batches\":2,\"hosts\":[\"b\"]")
            .at(
                1_040,
                "batch_finished",
                "\"batch\":2,\"hosts\":[\"b\"],\"failed\":[\"b\"],\"decision\":\"done\"");
    RunReport r = ReportReader.read(j.write(tmp.resolve("runs/r5")));

    assertThat(r.batches())
        .extracting(
            RunReport.Batch::number,
            RunReport.Batch::startMillis,
            RunReport.Batch::endMillis,
            RunReport.Batch::decision)
        .containsExactly(tuple(1, 10L, 1_020L, "continue"), tuple(2, 40L, 1_040L, "done"));
    assertThat(host(r, "b").events())
        .extracting(RunReport.Marker::text)
        .containsExactly("lost to r9 (bob@box2)");
  }

  @Test
  void theRecapOfADamagedJournalNamesEachDamagedLine() throws Exception {
    RunReport r = ReportReader.read(DamagedJournalTest.damagedRun(tmp));

    assertThat(r.summary().damage()).extracting(JournalEvents.Damage::line).containsExactly(8, 13);
    assertThat(host(r, "h2").steps())
        .extracting(Step::name, Step::status)
        .containsExactly(tuple("Migrate", null));
    assertThat(r.batches())
        .singleElement()
        .satisfies(b -> assertThat(b.hosts()).containsExactly("h1", "h2"));
    assertThat(host(r, "h1").events())
        .extracting(RunReport.Marker::text)
        .containsExactly("lost to 20261206-100500-n3w0 (bob@box2)");
  }

  @Test
  void aRehearsalFileBesideTheJournalIsRead() throws Exception {
    Path journal = fleet().write(tmp.resolve("runs/r1"));
    assertThat(ReportReader.read(journal).rehearsal()).isNull();

    Files.writeString(
        journal.resolveSibling("rehearsal.json"),
        "{\"verdict\":\"safe\",\"restore\":{\"seconds\":12}}");
    assertThat(ReportReader.read(journal).rehearsal().path("restore").path("seconds").asInt())
        .isEqualTo(12);

    Files.writeString(journal.resolveSibling("rehearsal.json"), "{\"verdict\":");
    assertThat(ReportReader.read(journal).rehearsal().path("unreadable").asText())
        .contains("rehearsal.json");
  }
}
