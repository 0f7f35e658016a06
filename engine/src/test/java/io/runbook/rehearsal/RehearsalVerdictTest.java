package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.execution.Plan;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One verdict, computed once from the checks, and every view of the rehearsal (console summary,
 * rehearsal.md, rehearsal.json) prints it: issue 14's observation 1 was the console saying
 * "rollback: did NOT restore state" while rehearsal.md said "restored: true" for the same run.
 */
class RehearsalVerdictTest {
  @TempDir Path tmp;

  private RehearsalReport report() throws Exception {
    Plan plan =
        TestPlans.plan(
            tmp,
            PlanHashTest.RUNBOOK,
            "all:\n  children:\n    app:\n      hosts:\n        h1: {ansible_connection: local, mode: binary, app_dir: /srv}\n",
            Instant.parse("2026-12-01T10:00:00Z"));
    RehearsalReport r =
        new RehearsalReport(
            "20261201-100000-abcd",
            Instant.parse("2026-12-01T10:00:00Z"),
            plan,
            tmp.resolve("rb.yaml"),
            "0123456789abcdef",
            10);
    r.copy("h1", "runbook-rehearsal-20261201-100000-abcd-h1");
    return r;
  }

  private static HostResult host(Outcome o, String failedStep, String message) {
    return new HostResult(
        "h1",
        "binary",
        o,
        3,
        2,
        o == Outcome.SUCCEEDED ? 0 : 1,
        0,
        1,
        failedStep,
        message,
        null,
        900);
  }

  @Test
  void aVerifyThatFailsIsAFailedRehearsalWhoseRollbackRestoredTheCopyEverywhere() throws Exception {
    RehearsalReport r = report();
    // the failing verify made the executor roll h1 back itself; no rollback of the run followed
    r.upgrade(
        new RunResult(
            "20261201-100000-abcd",
            List.of(host(Outcome.ROLLED_BACK, "Health", "exit 1")),
            1500,
            null,
            false));
    r.rollback(null);
    r.restored("h1", "abc  /srv/a\n", "abc  /srv/a\n");
    r.finish(null, false, Instant.parse("2026-12-01T10:01:00Z"));
    r.write(tmp);

    RehearsalVerdict v = r.verdict();
    assertThat(v.state()).isEqualTo("failed");
    assertThat(v.exitCode()).isEqualTo(2);
    assertThat(v.restored()).isTrue();
    assertThat(v.rollbackClean()).isTrue();
    assertThat(v.failures())
        .containsExactly("upgrade on h1: rolled back after 'Health' failed: exit 1");

    String console = r.summary();
    String md = Files.readString(tmp.resolve("rehearsal.md"));
    JsonNode json = new ObjectMapper().readTree(tmp.resolve("rehearsal.json").toFile());
    assertThat(console)
        .startsWith("REHEARSAL FAILED · run 20261201-100000-abcd · plan 01234567")
        .contains("on disposable copies: h1 → runbook-rehearsal-20261201-100000-abcd-h1")
        .contains("failed: upgrade on h1: rolled back after 'Health' failed")
        .contains("rollback: restored the checksums of data and config")
        .doesNotContain("did NOT");
    assertThat(md)
        .contains(console)
        .contains("verdict: **rehearsal failed** (exit 2)")
        .contains("Rollback restored data and config: true");
    assertThat(json.path("verdict").path("state").asText()).isEqualTo("failed");
    assertThat(json.path("verdict").path("restored").asBoolean()).isTrue();
    assertThat(json.path("passed").asBoolean()).isFalse();
    assertThat(json.path("rollback_passed").asBoolean()).isTrue();
    assertThat(json.path("millis").asLong()).as("the whole rehearsal").isEqualTo(60_000);
    assertThat(RehearsalVerdict.read(tmp)).contains(v);
  }

  @Test
  void passedOnlyWhenUpgradeRollbackAndChecksumsAllHeld() throws Exception {
    RehearsalReport r = report();
    r.upgrade(new RunResult("x", List.of(host(Outcome.SUCCEEDED, null, null)), 1500, null, false));
    r.rollback(
        new RunResult(
            "x",
            List.of(host(Outcome.UNDONE, null, "rollback asked by the operator")),
            700,
            null,
            false));
    r.restored("h1", "abc  /srv/a\n", "abc  /srv/a\n");
    r.finish(null, false, Instant.now());
    assertThat(r.verdict().passed()).isTrue();
    assertThat(r.verdict().outcome()).isEqualTo("rehearsal passed");
    assertThat(r.exitCode()).isZero();
    assertThat(r.summary())
        .startsWith("REHEARSAL PASSED")
        .contains("upgrade:  passed (1500 ms)")
        .contains("rollback: restored the checksums of data and config (700 ms)");

    RehearsalReport differs = report();
    differs.upgrade(
        new RunResult("x", List.of(host(Outcome.SUCCEEDED, null, null)), 1500, null, false));
    differs.rollback(
        new RunResult("x", List.of(host(Outcome.UNDONE, null, null)), 700, null, false));
    differs.restored("h1", "abc  /srv/a\n", "def  /srv/a\n");
    differs.finish(null, false, Instant.now());
    assertThat(differs.verdict().state()).isEqualTo("failed");
    assertThat(differs.summary())
        .contains("rollback: did NOT restore the checksums")
        .contains("failed: the rollback did not restore the checksums of data and config on h1");
  }

  @Test
  void aRehearsalThatCouldNotFinishOrWasInterruptedHasAVerdictToo() throws Exception {
    RehearsalReport aborted = report();
    aborted.finish(
        "seeding h1: h1: restore of /srv/backups/x/sample.tar.gz: checksum mismatch",
        false,
        Instant.now());
    assertThat(aborted.verdict().state()).isEqualTo("failed");
    assertThat(aborted.exitCode()).isEqualTo(2);
    assertThat(aborted.summary())
        .contains("failed: seeding h1: h1: restore of")
        .contains("upgrade:  did not run")
        .contains("rollback: not checked");

    RehearsalReport interrupted = report();
    interrupted.upgrade(
        new RunResult(
            "x",
            List.of(host(Outcome.ROLLED_BACK, "Health", "interrupted")),
            1500,
            "interrupted by the operator",
            true));
    interrupted.restored("h1", "a\n", "a\n");
    interrupted.finish(null, true, Instant.now());
    assertThat(interrupted.verdict().state()).isEqualTo("interrupted");
    assertThat(interrupted.verdict().outcome()).isEqualTo("rehearsal interrupted");
    assertThat(interrupted.exitCode()).isEqualTo(130);
    assertThat(interrupted.summary()).startsWith("REHEARSAL INTERRUPTED");

    RehearsalReport handlerFailed = report();
    handlerFailed.upgrade(
        new RunResult(
            "x",
            List.of(
                new HostResult(
                    "h1",
                    "binary",
                    Outcome.ROLLBACK_FAILED,
                    1,
                    1,
                    1,
                    0,
                    0,
                    "Health",
                    "exit 1",
                    "Start: exit 3",
                    900)),
            1500,
            null,
            false));
    handlerFailed.restored("h1", "a\n", "b\n");
    handlerFailed.finish(null, false, Instant.now());
    assertThat(handlerFailed.exitCode()).isEqualTo(3);
    assertThat(handlerFailed.summary())
        .contains("rollback: FAILED: a rollback handler failed")
        .contains("failed: rollback on h1 failed: Start: exit 3");
  }
}
