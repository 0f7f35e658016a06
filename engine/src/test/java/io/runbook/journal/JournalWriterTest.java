package io.runbook.journal;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.event.StepStarted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalWriterTest {
  @TempDir Path state;

  @Test
  void everyEventIsInTheFileBeforeTheWriterIsClosed() throws Exception {
    // What a controller killed with -9 leaves behind: the writer is never closed.
    JournalWriter w = JournalWriter.open(state, "run-1");
    for (int i = 0; i < 3; i++) {
      w.on(
          new StepStarted(
              Instant.parse("2026-11-22T00:00:0" + i + "Z"),
              "web1",
              "deploy",
              i,
              "step " + i,
              "shell",
              false,
              null));
    }

    List<String> lines = Files.readAllLines(state.resolve("runs/run-1/journal.jsonl"));
    assertThat(lines).hasSize(3);
    assertThat(lines.get(2)).contains("\"name\":\"step 2\"").contains("\"event\":\"step_started\"");

    w.sync();
    w.close();
    w.close(); // closing twice is harmless (the CLI and a shutdown hook may both do it)
    assertThat(Files.readAllLines(state.resolve("runs/run-1/journal.jsonl"))).isEqualTo(lines);
  }

  @Test
  void appendContinuesTheSameFile() throws Exception {
    try (JournalWriter w = JournalWriter.open(state, "run-2")) {
      w.on(new StepStarted(Instant.EPOCH, "web1", "deploy", 0, "a", "shell", false, null));
    }
    try (JournalWriter w = JournalWriter.append(state, "run-2")) {
      w.on(new StepStarted(Instant.EPOCH, "web1", "deploy", 1, "b", "shell", false, null));
    }
    assertThat(Files.readAllLines(state.resolve("runs/run-2/journal.jsonl"))).hasSize(2);
  }
}
