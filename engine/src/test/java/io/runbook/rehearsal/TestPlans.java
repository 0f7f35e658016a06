package io.runbook.rehearsal;

import io.runbook.engine.Engine;
import io.runbook.engine.RunRequest;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** Plans a runbook text against an inventory text, as apply would (no host is contacted). */
final class TestPlans {
  private TestPlans() {}

  static Plan plan(Path dir, String runbook, String inventory, Instant now) throws Exception {
    Path rb = dir.resolve("rb-" + Integer.toHexString(runbook.hashCode()) + ".yaml");
    Files.writeString(rb, runbook);
    Path inv = dir.resolve("inv-" + Integer.toHexString(inventory.hashCode()) + ".yaml");
    Files.writeString(inv, inventory);
    return Engine.plan(RunRequest.of(rb, inv.toString()), Planner.newRunId(now), now);
  }
}
