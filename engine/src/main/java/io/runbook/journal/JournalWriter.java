package io.runbook.journal;

import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import io.runbook.event.StepFinished;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import io.runbook.event.RunFinished;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends every event of a run to {@code <state>/runs/<run-id>/journal.jsonl}, one JSON object a line.
 *
 * <p>Each event is written through to the operating system at once, so the journal holds everything up
 * to the moment the controller process died (kill -9, OOM). Reaching the disk is batched: a dirty journal
 * is forced ({@code fdatasync}) at most {@link #SYNC_INTERVAL} after its first unsynced event, and at once
 * when the run finishes, so a power cut of the controller loses at most that window while a step costs
 * no disk wait (a forced write takes about a millisecond here; a 200-host step would pay it 400 times).
 *
 * <p>A step's private undo state (the bytes a {@code copy} replaced, which may be secrets) never enters
 * the journal; it goes to {@code undo-state.jsonl} beside it, readable by its owner only, so that
 * {@code resume} and {@code rollback} can still undo the step after the controller died.
 */
public final class JournalWriter implements EventListener, Closeable {
  public static final String PRIVATE_FILE = "undo-state.jsonl";
  /** The longest an event waits in the page cache before it is forced to disk. */
  public static final Duration SYNC_INTERVAL = Duration.ofMillis(200);
  // One daemon thread for every journal of the process: syncing never holds up a host's thread.
  private static final ScheduledExecutorService SYNCER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "runbook-journal-sync");
    t.setDaemon(true);
    return t;
  });
  private final Path file;
  private final FileChannel out;
  private FileChannel privateOut;
  private boolean syncScheduled;
  private boolean closed;

  private JournalWriter(Path file, FileChannel out) {
    this.file = file;
    this.out = out;
  }

  public static Path runDir(Path stateDir, String runId) {
    return stateDir.resolve("runs").resolve(runId);
  }

  public static JournalWriter open(Path stateDir, String runId) {
    Path dir = runDir(stateDir, runId);
    try {
      PrivateFiles.directoryBelow(stateDir, dir);
      Path file = dir.resolve("journal.jsonl");
      JournalWriter w = new JournalWriter(file, PrivateFiles.createNew(file));
      forceDirectory(dir); // the journal's directory entry must survive a power cut too
      return w;
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot create the run journal in " + dir + ": "
          + e.getMessage() + " (check that the directory is writable, or pass --state-dir)", e);
    }
  }

  /** Continues the journal of a run (for {@code resume}). */
  public static JournalWriter append(Path stateDir, String runId) {
    Path file = runDir(stateDir, runId).resolve("journal.jsonl");
    try {
      PrivateFiles.directoryBelow(stateDir, file.getParent());
      return new JournalWriter(file, PrivateFiles.append(file, false));
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot append to the run journal " + file + ": " + e.getMessage(), e);
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public synchronized void on(Event event) {
    try {
      if (event instanceof StepFinished sf && !sf.rollback() && hasPrivate(sf.result().data())) writePrivate(sf);
      writeFully(out, EventJson.line(event) + "\n");
      if (event instanceof RunFinished) {
        sync();
      } else if (!syncScheduled) {
        syncScheduled = true;
        SYNCER.schedule(this::syncQuietly, SYNC_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot write the run journal " + file + ": " + e.getMessage(), e);
    }
  }

  /** Forces everything written so far to disk. */
  public synchronized void sync() throws IOException {
    syncScheduled = false;
    if (closed) return;
    if (privateOut != null) privateOut.force(false);
    out.force(false);
  }

  private void syncQuietly() {
    try {
      sync();
    } catch (IOException ignored) {
      // the next write or the final sync reports a failing disk
    }
  }

  private static void writeFully(FileChannel channel, String text) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) channel.write(buf);
  }

  private static void forceDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // not every file system lets a directory be opened for sync; the file itself is still forced
    }
  }

  private static boolean hasPrivate(Map<String, Object> data) {
    return data.keySet().stream().anyMatch(k -> k.startsWith("_"));
  }

  private void writePrivate(StepFinished sf) throws IOException {
    if (privateOut == null) {
      privateOut = PrivateFiles.append(file.resolveSibling(PRIVATE_FILE), true);
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("host", sf.host());
    line.put("index", sf.index());
    line.put("data", sf.result().data());
    writeFully(privateOut, EventJson.MAPPER.writeValueAsString(line) + "\n");
  }

  @Override
  public synchronized void close() {
    try {
      sync();
    } catch (IOException ignored) {
      // every event was written through already; only the disk's copy may lag
    }
    closed = true;
    try {
      if (privateOut != null) privateOut.close();
      out.close();
    } catch (IOException ignored) {
      // nothing buffered is left to lose
    }
  }
}
