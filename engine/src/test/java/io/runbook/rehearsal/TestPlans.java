package io.runbook.rehearsal;

import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.inventory.InventoryLoader;
import io.runbook.model.RunbookParser;
import io.runbook.yaml.Problems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** Plans a runbook text against an inventory text, as apply would (no host is contacted). */
final class TestPlans {
  private TestPlans() {}

  static Plan plan(Path dir, String runbook, String inventory, Instant now) throws Exception {
    Path rb = dir.resolve("rb-" + Integer.toHexString(runbook.hashCode()) + ".yaml");
    Files.writeString(rb, runbook);
    Path inv = dir.resolve("inv-" + Integer.toHexString(inventory.hashCode()) + ".yaml");
    Files.writeString(inv, inventory);
    Problems p = new Problems();
    var r = RunbookParser.parse(rb, "rb.yaml", p);
    var i = InventoryLoader.load(inv, "inv.yaml", p);
    p.throwIfAny();
    return new Planner(r.orElseThrow(), i.orElseThrow(), "inv.yaml").plan(null, Map.of(), Planner.newRunId(now), now);
  }
}
