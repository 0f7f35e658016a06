package io.runbook.engine;

import io.runbook.result.RunResult;
import java.nio.file.Path;
import java.util.List;

/**
 * A finished run and its journal.
 *
 * @param journalFailure why the journal could not be written (the run then stopped), or null
 * @param keptInMemoryOnly the journal lines that reached no file after that failure (for the
 *     operator to save)
 */
public record Executed(
    RunResult result, Path journal, String journalFailure, List<String> keptInMemoryOnly) {
  public Executed {
    keptInMemoryOnly = List.copyOf(keptInMemoryOnly);
  }
}
