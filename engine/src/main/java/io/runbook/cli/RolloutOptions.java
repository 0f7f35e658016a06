package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.execution.Batches;
import io.runbook.model.Rollout;
import io.runbook.model.Runbook;
import picocli.CommandLine.Option;

/** Command-line overrides of the runbook's {@code rollout:} section. */
final class RolloutOptions {
  @Option(
      names = "--serial",
      paramLabel = "SIZES",
      description =
          "Batch sizes, overriding rollout.serial: a count, a percentage, or a ramp such as 1,25%%,100%%.")
  String serial;

  @Option(
      names = "--max-fail-percentage",
      paramLabel = "N",
      description =
          "A batch fails when more than N%% of its hosts failed (overrides the runbook; default 0).")
  Integer maxFail;

  @Option(
      names = "--on-failure",
      paramLabel = "POLICY",
      description =
          "rollback-host, rollback-fleet or halt (overrides the runbook; default rollback-host).")
  String onFailure;

  @Option(
      names = "--confirm",
      negatable = true,
      description =
          "Ask before each batch after the first (overrides rollout.confirm; --yes answers yes).")
  Boolean confirm;

  Runbook apply(Runbook runbook) {
    try {
      return runbook.withRollout(
          runbook
              .rollout()
              .with(
                  serial == null ? null : Batches.parse(serial),
                  maxFail,
                  onFailure == null ? null : Rollout.Policy.of(onFailure),
                  confirm));
    } catch (IllegalArgumentException e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, e.getMessage());
    }
  }
}
