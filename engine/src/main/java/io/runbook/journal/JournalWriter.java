package io.runbook.journal;

import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import io.runbook.event.RunFinished;
import io.runbook.event.StepCheckpoint;
import io.runbook.event.StepFinished;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Appends every event of a run to {@code <state>/runs/<run-id>/journal.jsonl}, one JSON object a
 * line.
 *
 * <p>Each event is written through to the operating system at once, so the journal holds everything
 * up to the moment the controller process died (kill -9, OOM). Reaching the disk is batched: a
 * dirty journal is forced ({@code fdatasync}) at most {@link #SYNC_INTERVAL} after its first
 * unsynced event, and at once when the run finishes, so a power cut of the controller loses at most
 * that window while a step costs no disk wait (a forced write takes about a millisecond here; a
 * 200-host step would pay it 400 times).
 *
 * <p>A step's private undo state (the bytes a {@code copy} replaced, which may be secrets) never
 * enters the journal; it goes to {@code undo-state.jsonl} beside it, readable by its owner only, so
 * that {@code resume} and {@code rollback} can still undo the step after the controller died. A
 * step's {@link StepCheckpoint} is forced to disk there before the step changes its host.
 *
 * <p>When the journal cannot be written (disk full, I/O error) the writer does not throw into the
 * run: it tells its {@link #onFailure failure listener} once (the run then starts no new step and
 * rolls back the hosts in progress), keeps every event in memory, and writes the whole journal to a
 * {@linkplain #fallbackOf fallback file} on another file system if it can. Every file it makes is
 * its owner's only (0600 in 0700 directories).
 */
public final class JournalWriter implements EventListener, Closeable {
  public static final String FILE = "journal.jsonl";
  public static final String PRIVATE_FILE = "undo-state.jsonl";

  /** The longest an event waits in the page cache before it is forced to disk. */
  public static final Duration SYNC_INTERVAL = Duration.ofMillis(200);

  // One daemon thread for every journal of the process: syncing never holds up a host's thread.
  private static final ScheduledExecutorService SYNCER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "runbook-journal-sync");
            t.setDaemon(true);
            return t;
          });
  private final Path file;
  private final String runId;
  private final FileChannel out;
  private FileChannel privateOut;
  private boolean syncScheduled;
  private boolean closed;
  private Consumer<String> onFailure = why -> {};
  // Set once the journal cannot be written: every line since the run began, kept in memory, and
  // where
  // they went instead.
  private String failure;
  private List<String> kept;
  private FileChannel fallbackOut;
  private Path fallback;

  private JournalWriter(Path file, String runId, FileChannel out) {
    this.file = file;
    this.runId = runId;
    this.out = out;
  }

  public static Path runDir(Path stateDir, String runId) {
    return stateDir.resolve("runs").resolve(runId);
  }

  public static JournalWriter open(Path stateDir, String runId) {
    Path dir = runDir(stateDir, runId);
    try {
      PrivateFiles.directoryBelow(stateDir, dir);
      Path file = dir.resolve(FILE);
      JournalWriter w = new JournalWriter(file, runId, PrivateFiles.createNew(file));
      forceDirectory(dir); // the journal's directory entry must survive a power cut too
      return w;
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "cannot create the run journal in "
              + dir
              + ": "
              + e.getMessage()
              + " (check that the directory is writable, or pass --state-dir)",
          e);
    }
  }

  /**
   * Continues the journal of a run (for {@code resume} and {@code rollback}). A last line that a
   * dying controller left without its newline is ended first, so the next event starts a line of
   * its own.
   */
  public static JournalWriter append(Path stateDir, String runId) {
    Path file = runDir(stateDir, runId).resolve(FILE);
    try {
      boolean torn;
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer last = ByteBuffer.allocate(1);
        torn = in.size() > 0 && in.read(last, in.size() - 1) == 1 && last.get(0) != '\n';
      }
      PrivateFiles.directoryBelow(stateDir, file.getParent());
      FileChannel ch = PrivateFiles.append(file, false);
      if (torn) writeFully(ch, "\n");
      return new JournalWriter(file, runId, ch);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "cannot append to the run journal " + file + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Where a run's journal goes when its own cannot be written, in the order tried: {@code
   * $RUNBOOK_FALLBACK_DIR}, {@code $XDG_RUNTIME_DIR/runbook}, {@code /dev/shm/runbook-USER} and
   * {@code TMPDIR/runbook-USER}; the file is {@code RUN_ID.journal.jsonl}.
   */
  public static List<Path> fallbackDirs() {
    List<Path> dirs = new ArrayList<>();
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    String own = System.getenv("RUNBOOK_FALLBACK_DIR");
    if (own != null && !own.isBlank()) dirs.add(Path.of(own));
    String xdg = System.getenv("XDG_RUNTIME_DIR");
    if (xdg != null && !xdg.isBlank()) dirs.add(Path.of(xdg, "runbook"));
    dirs.add(Path.of("/dev/shm", "runbook-" + user));
    dirs.add(Path.of(System.getProperty("java.io.tmpdir"), "runbook-" + user));
    return dirs;
  }

  /** The fallback copy of a run's journal, if one was written. */
  public static Optional<Path> fallbackOf(String runId) {
    return fallbackDirs().stream()
        .map(d -> d.resolve(runId + ".journal.jsonl"))
        .filter(Files::isRegularFile)
        .findFirst();
  }

  public Path file() {
    return file;
  }

  /**
   * Told once, with why, when the journal cannot be written; the run must then stop changing hosts.
   */
  public synchronized void onFailure(Consumer<String> listener) {
    this.onFailure = listener;
  }

  /** Why the journal could not be written, and where it went instead; null while all is well. */
  public synchronized String failure() {
    return failure;
  }

  @Override
  public synchronized void on(Event event) {
    String line = EventJson.line(event) + "\n";
    if (failure != null) {
      keep(line);
      return;
    }
    try {
      if (event instanceof StepCheckpoint cp) {
        writePrivate(cp.host(), cp.index(), cp.iteration(), true, cp.data());
        privateOut.force(false); // before the step changes the host
      }
      if (event instanceof StepFinished sf && !sf.rollback() && hasPrivate(sf.result().data())) {
        writePrivate(
            sf.host(),
            sf.index(),
            sf.iteration() == null ? 0 : sf.iteration(),
            false,
            sf.result().data());
      }
      writeFully(out, line);
      if (event instanceof RunFinished) {
        sync();
      } else if (!syncScheduled) {
        syncScheduled = true;
        // syncQuietly handles its own failures: there is nothing to wait for or to read back
        ScheduledFuture<?> unused =
            SYNCER.schedule(this::syncQuietly, SYNC_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (IOException e) {
      fail(e, line);
    }
  }

  /** Forces everything written so far to disk. */
  public synchronized void sync() throws IOException {
    syncScheduled = false;
    if (closed || failure != null) return;
    if (privateOut != null) privateOut.force(false);
    out.force(false);
  }

  private void syncQuietly() {
    try {
      sync();
    } catch (IOException e) {
      synchronized (this) {
        if (failure == null && !closed) fail(e, null);
      }
    }
  }

  /**
   * The journal is broken: from now on every line is kept in memory and, when a fallback file can
   * be made, written there with everything the journal held before.
   */
  private void fail(IOException e, String line) {
    kept = new ArrayList<>();
    try {
      String before =
          Files.isRegularFile(file)
              ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8)
              : "";
      // the failed write may have left part of its line: drop it, the whole line follows
      if (!before.isEmpty() && !before.endsWith("\n"))
        before = before.substring(0, before.lastIndexOf('\n') + 1);
      before.lines().forEach(l -> kept.add(l + "\n"));
    } catch (IOException unreadable) {
      kept.add("");
    }
    for (Path dir : fallbackDirs()) {
      Path f = dir.resolve(runId + ".journal.jsonl");
      try {
        PrivateFiles.directory(dir);
        Files.deleteIfExists(f);
        FileChannel ch = PrivateFiles.createNew(f);
        for (String k : kept) writeFully(ch, k);
        fallbackOut = ch;
        fallback = f;
        break;
      } catch (IOException | UnsupportedOperationException tryNext) {
        // the next place, on another file system if there is one
      }
    }
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    failure =
        "cannot write the run journal "
            + file
            + " ("
            + reason
            + "); "
            + (fallback != null
                ? "the journal continues in " + fallback
                : "no fallback place could be written either: the journal is kept in memory and printed at the end");
    if (line != null) keep(line);
    Consumer<String> l = onFailure;
    l.accept(failure);
  }

  private void keep(String line) {
    kept.add(line);
    if (fallbackOut == null) return;
    try {
      writeFully(fallbackOut, line);
    } catch (IOException e) {
      fallbackOut = null; // memory it is
    }
  }

  /**
   * The lines a broken journal kept in memory: what {@code close} prints when no fallback file
   * could be made.
   */
  public synchronized List<String> keptInMemoryOnly() {
    return failure != null && fallback == null ? List.copyOf(kept) : List.of();
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

  private void writePrivate(
      String host, int index, int iteration, boolean checkpoint, Map<String, Object> data)
      throws IOException {
    if (privateOut == null) {
      privateOut = PrivateFiles.append(file.resolveSibling(PRIVATE_FILE), true);
    }
    writeFully(
        privateOut,
        EventJson.MAPPER.writeValueAsString(
                new UndoState(host, index, checkpoint, new LinkedHashMap<>(data), iteration))
            + "\n");
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
      if (fallbackOut != null) {
        fallbackOut.force(false);
        fallbackOut.close();
      }
    } catch (IOException ignored) {
      // nothing buffered is left to lose
    }
  }
}
