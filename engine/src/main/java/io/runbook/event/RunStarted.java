package io.runbook.event;

import java.time.Instant;
import java.util.List;

/** A run begins: which runbook, against which hosts, how parallel. */
public record RunStarted(Instant at, String runId, String runbook, String runbookName, String inventory,
    List<String> hosts, int forks, String user, String controller) implements Event {}
