package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.engine.Engine;
import io.runbook.engine.RunRequest;
import io.runbook.rehearsal.PlanHash;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SampleRuns;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, observation 9: {@code -e expected_version=9.9.9} changed nothing in binary mode and
 * nothing said so. An {@code -e} that no step, variable or template of the plan reads is a warning,
 * and stays out of the plan hash (a rehearsal record is keyed by the -e values that change the
 * plan).
 */
class ExtraVarsTest {
  static final Path REPO = SampleRuns.REPO;
  static final String RUNBOOK = REPO.resolve("runbooks/upgrade-v2.yaml").toString();
  @TempDir Path tmp;

  @Test
  void anExtraVarThatNoStepOfTheseModesReadsIsAWarningAndChangesNoHash() {
    String prod = REPO.resolve("inventory/prod.yaml").toString();
    Run binary =
        Cli.run(
            "plan",
            RUNBOOK,
            "-i",
            prod,
            "-e",
            "expected_version=9.9.9",
            "--state-dir",
            tmp.toString());
    assertThat(binary.code()).as(binary.err()).isZero();
    assertThat(binary.err())
        .contains(
            "warning: -e expected_version is read by no step, variable or template of this"
                + " plan (mode(s) binary): it changes nothing");

    // compose's verify reads it; target_version is read everywhere
    Run compose =
        Cli.run(
            "plan",
            RUNBOOK,
            "-i",
            REPO.resolve("inventory/compose.yaml").toString(),
            "-e",
            "expected_version=9.9.9",
            "--state-dir",
            tmp.toString());
    assertThat(compose.err()).doesNotContain("warning: -e");
    Run target =
        Cli.run(
            "plan",
            RUNBOOK,
            "-i",
            prod,
            "-e",
            "target_version=1.3.0",
            "--state-dir",
            tmp.toString());
    assertThat(target.err()).doesNotContain("warning: -e");
    // a variable only a local template file reads (config.template.json: session_secret) is read
    Run templ =
        Cli.run(
            "plan",
            RUNBOOK,
            "-i",
            prod,
            "-e",
            "session_secret=x-0123456789",
            "--state-dir",
            tmp.toString());
    assertThat(templ.err()).doesNotContain("warning: -e");

    var plan = Engine.plan(RunRequest.of(Path.of(RUNBOOK), prod));
    assertThat(PlanHash.of(plan, Map.of("expected_version", "9.9.9")))
        .as("binary: changes nothing")
        .isEqualTo(PlanHash.of(plan, Map.of()));
    assertThat(PlanHash.of(plan, Map.of("target_version", "1.3.0")))
        .isNotEqualTo(PlanHash.of(plan, Map.of()));
  }
}
