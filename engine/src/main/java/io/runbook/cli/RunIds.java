package io.runbook.cli;

import io.runbook.journal.JournalReader;
import java.nio.file.Path;

/** Run ids as typed: a whole id or a unique prefix. */
final class RunIds {
  private RunIds() {}

  static String resolve(Path stateDir, String idOrPrefix) {
    return JournalReader.find(stateDir, idOrPrefix).runId();
  }
}
