package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * Before a controller acts on a host that another controller was working on (a resumed or
 * rolled-back run whose controller died, or a lock broken or taken over), it looks for that run's
 * commands still running there. {@code processes} lists them ({@code pid pgid command}); {@code
 * action} says what was done: {@code ended} (they finished while we waited), {@code stopped} (still
 * running after {@code waitedMillis}, so their process groups were killed), or {@code left} (they
 * could not be stopped: the host is left alone).
 */
public record OrphanFound(
    Instant at, String host, String run, List<String> processes, String action, long waitedMillis)
    implements Event {}
