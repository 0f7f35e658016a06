package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.engine.Engine;
import io.runbook.engine.RunRequest;
import io.runbook.execution.Plan;
import io.runbook.rehearsal.PlanHash;
import io.runbook.rehearsal.Rehearsals;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.yaml.Problems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * apply and plan say whether the plan they run was rehearsed, from the records 'runbook rehearse'
 * leaves: the newest record of exactly this runbook, inventory and plan.
 */
class RehearsalStatusTest {
  @TempDir Path tmp;

  private Path inventory(String name) throws Exception {
    return Files.writeString(
        tmp.resolve(name),
        "all:\n  hosts:\n    one: {ansible_connection: local, runbook_lock_path: "
            + tmp
            + "/lock}\n");
  }

  private Path runbook(String rehearsal) throws Exception {
    return Files.writeString(
        tmp.resolve("rb.yaml"),
        "apiVersion: runbook/v1\nkind: Runbook\nname: t\nhosts: all\n"
            + "phases:\n  deploy:\n    - name: Say hi\n      shell: echo [=greeting!'hi']\n"
            + rehearsal);
  }

  private static String hash(Path rb, Path inv, List<String> extra) {
    Plan plan = Engine.plan(RunRequest.of(rb, inv.toString()).withExtraVars(extra));
    return PlanHash.of(plan, Inputs.extraVars(extra, new Problems()));
  }

  private static void record(
      Path state, Path rb, Path inv, String hash, String at, String runId, String verdict)
      throws Exception {
    record(state, rb, List.of(inv), hash, at, runId, verdict);
  }

  private static void record(
      Path state, Path rb, List<Path> inv, String hash, String at, String runId, String verdict)
      throws Exception {
    Rehearsals.write(
        state,
        new Rehearsals.Entry(
            rb,
            inv,
            hash,
            Instant.parse(at),
            runId,
            verdict,
            List.of("one"),
            verdict.equals("passed") ? List.of() : List.of("upgrade on one: rolled back"),
            List.of()));
  }

  @Test
  void applyAndPlanSayNeverRehearsedThenRehearsedThenChanged() throws Exception {
    Path inv = inventory("inv.yaml");
    Path rb = runbook("rehearsal: {restore: none}\n");
    Path state = tmp.resolve("state");

    Run first =
        Cli.run(
            "apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("warning: never rehearsed with this inventory (plan ");

    String hash = hash(rb, inv, List.of());
    record(state, rb, inv, hash, "2026-11-21T23:10:00Z", "20261121-231000-0001", "passed");

    Run rehearsed =
        Cli.run(
            "apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(rehearsed.out())
        .contains(
            "rehearsed on 2026-11-21 23:10:00Z, passed (plan "
                + hash.substring(0, 8)
                + ", run 20261121-231000-0001)");
    Run planned =
        Cli.run("plan", rb.toString(), "-i", inv.toString(), "--state-dir", state.toString());
    assertThat(planned.out()).contains("rehearsed on 2026-11-21 23:10:00Z, passed");

    // Under --json the line goes to stderr: stdout stays JSON lines.
    Run json =
        Cli.run(
            "apply",
            rb.toString(),
            "-i",
            inv.toString(),
            "--yes",
            "--json",
            "--state-dir",
            state.toString());
    assertThat(json.err()).contains("rehearsed on ");
    assertThat(json.out().lines()).allMatch(l -> l.startsWith("{"));

    Files.writeString(rb, Files.readString(rb).replace("echo [=greeting!'hi']", "echo hello"));
    Run changed =
        Cli.run(
            "apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(changed.out())
        .contains(
            "warning: plan changed since the rehearsal on 2026-11-21 23:10:00Z (rehearsed plan "
                + hash.substring(0, 8));

    record(
        state,
        rb,
        inv,
        hash(rb, inv, List.of()),
        "2026-11-21T23:20:00Z",
        "20261121-232000-0002",
        "failed");
    Run failed =
        Cli.run("plan", rb.toString(), "-i", inv.toString(), "--state-dir", state.toString());
    assertThat(failed.out())
        .contains("warning: the rehearsal on 2026-11-21 23:20:00Z FAILED")
        .contains("upgrade on one: rolled back");
  }

  /**
   * Observation 2 of issue 14: a stale "passed", another inventory's record, an -e experiment
   * replacing it.
   */
  @Test
  void theNewestRecordOfExactlyThisPlanAndInventoryAnswersAndAFailedOneAsFailed() throws Exception {
    Path prod = inventory("prod.yaml");
    Path staging = inventory("staging.yaml");
    Path rb = runbook("rehearsal: {restore: none}\n");
    Path state = tmp.resolve("state");
    String hash = hash(rb, prod, List.of());

    // a passing rehearsal (--limit one), then a full one that failed: the newest answers, as failed
    record(state, rb, prod, hash, "2026-11-21T10:00:00Z", "20261121-100000-0001", "passed");
    record(state, rb, prod, hash, "2026-11-21T11:00:00Z", "20261121-110000-0002", "failed");
    assertThat(
            Cli.run("plan", rb.toString(), "-i", prod.toString(), "--state-dir", state.toString())
                .out())
        .contains(
            "warning: the rehearsal on 2026-11-21 11:00:00Z FAILED (plan "
                + hash.substring(0, 8)
                + ", run 20261121-110000-0002)")
        .doesNotContain("passed");
    // an interrupted one is no pass either
    record(state, rb, prod, hash, "2026-11-21T11:30:00Z", "20261121-113000-0003", "interrupted");
    assertThat(
            Cli.run("plan", rb.toString(), "-i", prod.toString(), "--state-dir", state.toString())
                .out())
        .contains("was INTERRUPTED");

    // another inventory's rehearsal does not answer for this one
    record(state, rb, staging, hash, "2026-11-21T12:00:00Z", "20261121-120000-0004", "passed");
    assertThat(
            Cli.run("plan", rb.toString(), "-i", prod.toString(), "--state-dir", state.toString())
                .out())
        .contains("was INTERRUPTED")
        .doesNotContain("20261121-120000-0004");
    assertThat(
            Cli.run(
                    "plan",
                    rb.toString(),
                    "-i",
                    staging.toString(),
                    "--state-dir",
                    state.toString())
                .out())
        .contains("passed (plan " + hash.substring(0, 8) + ", run 20261121-120000-0004)");

    // an -e experiment (a different plan) is recorded beside, not over, the passing record of the
    // plain plan
    String experiment = hash(rb, staging, List.of("greeting=hello"));
    assertThat(experiment).isNotEqualTo(hash);
    record(
        state, rb, staging, experiment, "2026-11-21T13:00:00Z", "20261121-130000-0005", "failed");
    assertThat(
            Cli.run(
                    "plan",
                    rb.toString(),
                    "-i",
                    staging.toString(),
                    "--state-dir",
                    state.toString())
                .out())
        .contains("passed (plan " + hash.substring(0, 8) + ", run 20261121-120000-0004)");
    assertThat(
            Cli.run(
                    "plan",
                    rb.toString(),
                    "-i",
                    staging.toString(),
                    "-e",
                    "greeting=hello",
                    "--state-dir",
                    state.toString())
                .out())
        .contains("FAILED (plan " + experiment.substring(0, 8));
  }

  /** A run with several -i sources is keyed by all of them, in order, not by the first one. */
  @Test
  void severalInventorySourcesAreOneKey() throws Exception {
    Path prod = inventory("prod.yaml");
    Path extra = Files.writeString(tmp.resolve("extra.yaml"), "all:\n  vars:\n    region: eu\n");
    Path rb = runbook("rehearsal: {restore: none}\n");
    Path state = tmp.resolve("state");
    String hash = hash(rb, prod, List.of());
    record(
        state,
        rb,
        List.of(prod, extra),
        hash,
        "2026-11-21T10:00:00Z",
        "20261121-100000-0001",
        "passed");

    assertThat(
            Cli.run(
                    "plan",
                    rb.toString(),
                    "-i",
                    prod.toString(),
                    "-i",
                    extra.toString(),
                    "--state-dir",
                    state.toString())
                .out())
        .contains("passed (plan " + hash.substring(0, 8) + ", run 20261121-100000-0001)");
    assertThat(
            Cli.run("plan", rb.toString(), "-i", prod.toString(), "--state-dir", state.toString())
                .out())
        .as("the first source alone is another inventory")
        .contains("never rehearsed with this inventory");
    assertThat(
            Cli.run(
                    "plan",
                    rb.toString(),
                    "-i",
                    extra.toString(),
                    "-i",
                    prod.toString(),
                    "--state-dir",
                    state.toString())
                .out())
        .as("the order of the sources matters to what wins")
        .contains("never rehearsed");
  }

  /** Observation 9 of issue 14: "never rehearsed" only for runbooks that ask for a rehearsal. */
  @Test
  void aRunbookWithoutARehearsalSectionIsNotNaggedAboutIt() throws Exception {
    Path inv = inventory("inv.yaml");
    Path rb = runbook("");
    Path state = tmp.resolve("state");
    Run plan =
        Cli.run("plan", rb.toString(), "-i", inv.toString(), "--state-dir", state.toString());
    assertThat(plan.code()).as(plan.err()).isZero();
    assertThat(plan.out()).doesNotContain("rehears");
    Run apply =
        Cli.run(
            "apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(apply.out() + apply.err()).doesNotContain("rehears");
  }
}
