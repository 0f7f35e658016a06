package io.runbook.event;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A run begins: which runbook, against which hosts, how parallel, in which batches. {@code request}
 * holds what {@code runbook resume} needs to plan the same run again.
 */
public record RunStarted(
    Instant at,
    String runId,
    String runbook,
    String runbookName,
    String inventory,
    List<String> hosts,
    int forks,
    String user,
    String controller,
    List<List<String>> batches,
    Request request)
    implements Event {

  /**
   * How the run was asked for.
   *
   * @param runbookSha256 checksum of the runbook file, so a resume can refuse a runbook that
   *     changed
   * @param createdAt the run's timestamp ({@code run.timestamp} in templates)
   */
  public record Request(
      String runbookPath,
      String inventoryPath,
      String limit,
      Map<String, Object> extraVars,
      List<Object> serial,
      int maxFailPercentage,
      String onFailure,
      String runbookSha256,
      Instant createdAt) {}
}
