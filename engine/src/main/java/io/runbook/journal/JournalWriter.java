package io.runbook.journal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends every event of a run to {@code <state>/runs/<run-id>/journal.jsonl}, one JSON object a line,
 * flushed per event so that the journal holds everything up to the moment the controller stopped.
 */
public final class JournalWriter implements EventListener, Closeable {
  private final Path file;
  private final OutputStream out;

  private JournalWriter(Path file, OutputStream out) {
    this.file = file;
    this.out = out;
  }

  public static Path runDir(Path stateDir, String runId) {
    return stateDir.resolve("runs").resolve(runId);
  }

  public static JournalWriter open(Path stateDir, String runId) {
    Path dir = runDir(stateDir, runId);
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve("journal.jsonl");
      return new JournalWriter(file, Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot create the run journal in " + dir + ": "
          + e.getMessage() + " (check that the directory is writable, or pass --state-dir)", e);
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public void on(Event event) {
    try {
      out.write((EventJson.line(event) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot write the run journal " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException ignored) {
      // the last flush already reported any write error
    }
  }
}
