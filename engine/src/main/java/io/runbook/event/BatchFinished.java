package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * A batch ended: which of its hosts failed (after their own rollback), and what the rollout does
 * next: {@code continue}, {@code done}, {@code stop} or {@code rollback-fleet}.
 */
public record BatchFinished(
    Instant at, int batch, List<String> hosts, List<String> failed, String decision, String reason)
    implements Event {}
