package io.runbook.journal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import io.runbook.event.StepFinished;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
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
 *
 * <p>A step's private undo state (the bytes a {@code copy} replaced, which may be secrets) never enters
 * the journal; it goes to {@code undo-state.jsonl} beside it, readable by its owner only, so that
 * {@code resume} and {@code rollback} can still undo the step after the controller died.
 */
public final class JournalWriter implements EventListener, Closeable {
  public static final String PRIVATE_FILE = "undo-state.jsonl";
  private final Path file;
  private final OutputStream out;
  private OutputStream privateOut;

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

  /** Continues the journal of a run (for {@code resume}). */
  public static JournalWriter append(Path stateDir, String runId) {
    Path file = runDir(stateDir, runId).resolve("journal.jsonl");
    try {
      return new JournalWriter(file, Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot append to the run journal " + file + ": " + e.getMessage(), e);
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public void on(Event event) {
    try {
      if (event instanceof StepFinished sf && !sf.rollback() && hasPrivate(sf.result().data())) writePrivate(sf);
      out.write((EventJson.line(event) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot write the run journal " + file + ": " + e.getMessage(), e);
    }
  }

  private static boolean hasPrivate(Map<String, Object> data) {
    return data.keySet().stream().anyMatch(k -> k.startsWith("_"));
  }

  private void writePrivate(StepFinished sf) throws IOException {
    if (privateOut == null) {
      Path p = file.resolveSibling(PRIVATE_FILE);
      if (!Files.exists(p)) {
        Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
      privateOut = Files.newOutputStream(p, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("host", sf.host());
    line.put("index", sf.index());
    line.put("data", sf.result().data());
    privateOut.write((EventJson.MAPPER.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
    privateOut.flush();
  }

  @Override
  public void close() {
    try {
      if (privateOut != null) privateOut.close();
      out.close();
    } catch (IOException ignored) {
      // the last flush already reported any write error
    }
  }
}
