package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.cli.BadInputTest.Run;
import io.runbook.execution.Plan;
import io.runbook.rehearsal.PlanHash;
import io.runbook.rehearsal.Rehearsals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** apply and plan say whether the plan they run was rehearsed, from the record 'runbook rehearse' leaves. */
class RehearsalStatusTest {
  @TempDir Path tmp;

  @Test
  void applyAndPlanSayNeverRehearsedThenRehearsedThenChanged() throws Exception {
    Path inv = tmp.resolve("inv.yaml");
    Files.writeString(inv, "all:\n  hosts:\n    one: {ansible_connection: local, runbook_lock_path: " + tmp + "/lock}\n");
    Path rb = tmp.resolve("rb.yaml");
    Files.writeString(rb, "apiVersion: runbook/v1\nkind: Runbook\nname: t\nhosts: all\nphases:\n  deploy:\n"
        + "    - name: Say hi\n      shell: echo hi\n");
    Path state = tmp.resolve("state");

    Run first = Run.of("apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("warning: never rehearsed (plan ");

    Plan plan = Inputs.plan(rb, inv.toString(), null, List.of(), r -> r);
    String hash = PlanHash.of(plan, Map.of());
    Rehearsals.record(state, rb, hash, Instant.parse("2026-11-21T23:10:00Z"), "20261121-231000-0001", true);

    Run rehearsed = Run.of("apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(rehearsed.out()).contains("rehearsed on 2026-11-21 23:10:00Z, passed (plan " + hash.substring(0, 8)
        + ", run 20261121-231000-0001)");
    Run planned = Run.of("plan", rb.toString(), "-i", inv.toString(), "--state-dir", state.toString());
    assertThat(planned.out()).contains("rehearsed on 2026-11-21 23:10:00Z, passed");

    // Under --json the line goes to stderr: stdout stays JSON lines.
    Run json = Run.of("apply", rb.toString(), "-i", inv.toString(), "--yes", "--json", "--state-dir", state.toString());
    assertThat(json.err()).contains("rehearsed on ");
    assertThat(json.out().lines()).allMatch(l -> l.startsWith("{"));

    Files.writeString(rb, Files.readString(rb).replace("echo hi", "echo hello"));
    Run changed = Run.of("apply", rb.toString(), "-i", inv.toString(), "--yes", "--state-dir", state.toString());
    assertThat(changed.out()).contains("warning: plan changed since the rehearsal on 2026-11-21 23:10:00Z (rehearsed plan "
        + hash.substring(0, 8));

    Rehearsals.record(state, rb, PlanHash.of(Inputs.plan(rb, inv.toString(), null, List.of(), r -> r), Map.of()),
        Instant.parse("2026-11-21T23:20:00Z"), "20261121-232000-0002", false);
    Run failed = Run.of("plan", rb.toString(), "-i", inv.toString(), "--state-dir", state.toString());
    assertThat(failed.out()).contains("warning: the rehearsal on 2026-11-21 23:20:00Z FAILED");
  }
}
