package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackStarted;
import io.runbook.event.RunFinished;
import io.runbook.event.RunStarted;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.journal.JournalEvents;
import io.runbook.journal.JournalWriter;
import io.runbook.journal.UndoState;
import io.runbook.result.HostResult;
import io.runbook.result.StepResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A run as its journal left it: how it was asked for, its batches and how each ended, and per host
 * the forward steps that finished (with their results, private undo state included), the step in
 * flight, the undo work already done, and its outcome. A fold over the journal's {@link
 * JournalEvents}; what {@code resume} continues from and {@code rollback} undoes.
 *
 * @param startedBatches the batches whose start was journaled, by 1-based batch number
 * @param finishedBatches the decision of every batch whose end was journaled, by 1-based batch
 *     number
 * @param damage lines of the journal that are not events
 */
public record RunState(
    String runId,
    Path dir,
    RunStarted.Request request,
    List<List<String>> batches,
    Map<String, HostState> hosts,
    boolean finished,
    boolean batchesStarted,
    Set<Integer> startedBatches,
    Map<Integer, String> finishedBatches,
    List<JournalEvents.Damage> damage,
    Path journal) {

  /**
   * One host's progress.
   *
   * @param completed forward steps that finished (by 1-based index), whatever their status, in
   *     order
   * @param inFlight the index of a forward step that started and never finished, or 0
   * @param checkpoint the undo state the in-flight step journaled before it changed the host, or
   *     null
   * @param undone undo work that finished ({@code 3:auto}, {@code 3:1}, {@code phase:2}): never run
   *     again
   * @param undoInFlight undo work that started and never finished, or null
   * @param rollingBack a rollback started and did not end (the controller died during it)
   * @param result the host's last outcome, or null while it was in progress
   * @param iterations the items of looped forward steps that finished, by {@code N.i} (item i of
   *     step N)
   * @param iterationInFlight the item of looped step {@code inFlight} that started and never
   *     finished, or 0
   */
  public record HostState(
      Map<Integer, StepResult> completed,
      int inFlight,
      Map<String, Object> checkpoint,
      Set<String> undone,
      String undoInFlight,
      boolean rollingBack,
      HostResult result,
      Map<String, StepResult> iterations,
      int iterationInFlight) {

    public HostState(
        Map<Integer, StepResult> completed,
        int inFlight,
        Map<String, Object> checkpoint,
        Set<String> undone,
        String undoInFlight,
        boolean rollingBack,
        HostResult result) {
      this(completed, inFlight, checkpoint, undone, undoInFlight, rollingBack, result, Map.of(), 0);
    }
  }

  public static RunState read(Path stateDir, String runId) {
    Path dir = JournalWriter.runDir(stateDir, runId);
    Path file = dir.resolve(JournalWriter.FILE);
    if (!Files.exists(file)) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "no run " + runId + " in " + stateDir + " (runbook history lists the runs)");
    }
    // A run whose journal could not be written kept it elsewhere: that copy is the whole story, and
    // goes
    // back in its place so that this command's own events follow it.
    JournalWriter.fallbackOf(runId).ifPresent(f -> restore(f, file));
    return fold(
        runId,
        dir,
        JournalEvents.read(file),
        UndoState.read(dir.resolve(JournalWriter.PRIVATE_FILE)));
  }

  private static void restore(Path fallback, Path journal) {
    try {
      byte[] kept = Files.readAllBytes(fallback);
      byte[] here = Files.readAllBytes(journal);
      if (kept.length <= here.length) return;
      Path tmp = journal.resolveSibling(JournalWriter.FILE + ".restoring");
      Files.deleteIfExists(tmp);
      Files.write(tmp, kept, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      Files.move(tmp, journal, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.delete(fallback);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "the journal of this run was kept in "
              + fallback
              + " when its own could not be written, and cannot be put back in "
              + journal
              + ": "
              + e.getMessage()
              + " (free some space there, or copy the file over by hand)",
          e);
    }
  }

  /**
   * The same run's journal read again: what it says now (another controller may have written more).
   */
  public RunState reread() {
    return read(dir.getParent().getParent(), runId);
  }

  static RunState fold(String runId, Path dir, JournalEvents journal, List<UndoState> undoState) {
    Fold f = new Fold();
    for (JournalEvents.Line line : journal.events()) f.on(line.event());
    if (f.request == null) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          journal.file()
              + " has no run_started event: it is not a "
              + "run journal this runbook can resume");
    }
    for (UndoState u : undoState) f.undoState(u);
    Map<String, HostState> hosts = new LinkedHashMap<>();
    f.hosts.forEach((name, h) -> hosts.put(name, h.state()));
    return new RunState(
        runId,
        dir,
        f.request,
        f.batches,
        hosts,
        f.finished,
        !f.startedBatches.isEmpty(),
        f.startedBatches,
        f.finishedBatches,
        journal.damage(),
        journal.file());
  }

  /**
   * Refuses to act on hosts whose outcome a damaged journal line may hide: the line could have been
   * a step's end, or a rollback's, and guessing either way could run an undo twice or leave a host
   * half done.
   */
  public void requireKnown(Collection<String> targets, String verb) {
    List<String> unknown = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (JournalEvents.Damage d : damage) {
      if (d.torn()) continue;
      List<String> hit =
          d.host() == null
              ? List.copyOf(targets)
              : targets.contains(d.host()) ? List.of(d.host()) : List.of();
      if (hit.isEmpty()) continue;
      lines.add(d.describe());
      hit.stream().filter(h -> !unknown.contains(h)).forEach(unknown::add);
    }
    if (unknown.isEmpty()) return;
    throw new RunbookException(
        ErrorCode.INVALID_INPUT,
        "cannot "
            + verb
            + " run "
            + runId
            + ": the journal "
            + journal
            + " is damaged at "
            + String.join(", ", lines)
            + ", which may hide what happened on "
            + String.join(", ", unknown)
            + ". Check "
            + (unknown.size() == 1 ? "that host" : "those hosts")
            + " by hand (runbook show "
            + runId
            + " lists what is known), then "
            + verb
            + " the others with --limit '"
            + String.join(",", unknown.stream().map(h -> "!" + h).toList())
            + "'");
  }

  /** The events of one journal, in order, into each host's state. */
  private static final class Fold {
    RunStarted.Request request;
    final List<List<String>> batches = new ArrayList<>();
    final Map<String, HostFold> hosts = new LinkedHashMap<>();
    final Map<Integer, String> finishedBatches = new TreeMap<>();
    final Set<Integer> startedBatches = new TreeSet<>();
    boolean finished;

    HostFold host(String name) {
      return hosts.computeIfAbsent(name, n -> new HostFold());
    }

    void on(Event event) {
      if (event instanceof RunStarted e) {
        request = e.request();
        e.batches().forEach(b -> batches.add(List.copyOf(b)));
        e.hosts().forEach(this::host);
      } else if (event instanceof BatchStarted e) {
        startedBatches.add(e.batch());
      } else if (event instanceof BatchFinished e) {
        finishedBatches.put(e.batch(), e.decision());
      } else if (event instanceof HostStarted e) {
        host(e.host());
      } else if (event instanceof StepStarted e) {
        host(e.host()).started(e);
      } else if (event instanceof StepFinished e) {
        host(e.host()).finished(e);
      } else if (event instanceof RollbackStarted e) {
        host(e.host()).rollbackStarted();
      } else if (event instanceof RollbackFinished e) {
        host(e.host()).rollingBack = false;
      } else if (event instanceof HostFinished e) {
        host(e.result().host()).result(e.result());
      } else if (event instanceof RunFinished) {
        finished = true;
      }
    }

    void undoState(UndoState u) {
      HostFold h = hosts.get(u.host());
      if (h == null || u.data() == null) return;
      String key = u.index() + (u.iteration() > 0 ? "." + u.iteration() : "");
      if (u.checkpoint()) {
        h.checkpoints.put(key, u.data());
      } else if (u.iteration() > 0) {
        StepResult r = h.iterations.get(key);
        if (r != null) h.iterations.put(key, r.withData(u.data()));
      } else {
        StepResult r = h.completed.get(u.index());
        if (r != null) h.completed.put(u.index(), r.withData(u.data()));
      }
    }
  }

  /** One host's events so far. */
  private static final class HostFold {
    final Map<Integer, StepResult> completed = new TreeMap<>();
    final Map<String, Map<String, Object>> checkpoints = new LinkedHashMap<>();
    final Map<String, StepResult> iterations = new LinkedHashMap<>();
    int iterationInFlight;
    final Set<String> undone = new LinkedHashSet<>();
    int inFlight;
    String undoInFlight;
    boolean rollingBack;
    HostResult result;

    void started(StepStarted e) {
      if (e.rollback()) {
        if (e.undo() != null) undoInFlight = e.undo();
      } else if (e.index() > 0) {
        inFlight = e.index();
        iterationInFlight = e.iteration() == null ? 0 : e.iteration();
      }
    }

    void finished(StepFinished e) {
      if (e.rollback()) {
        if (e.undo() != null && e.undo().equals(undoInFlight)) undoInFlight = null;
        if (e.undo() != null && !e.result().failed()) undone.add(e.undo());
        return;
      }
      if (e.index() <= 0) return; // a gate step
      if (e.iteration() != null && e.iteration() > 0) {
        // one item of a looped step: the step itself stays in flight until its summary
        iterations.put(e.index() + "." + e.iteration(), e.result());
        iterationInFlight = 0;
        return;
      }
      if (e.index() == inFlight) inFlight = 0;
      iterationInFlight = 0;
      completed.put(e.index(), e.result());
    }

    void rollbackStarted() {
      rollingBack = true;
      result = null; // a host that had finished is being undone: in progress again until it ends
    }

    void result(HostResult r) {
      result = r;
      rollingBack = false;
    }

    HostState state() {
      Map<String, Object> checkpoint =
          inFlight <= 0
              ? null
              : checkpoints.get(inFlight + (iterationInFlight > 0 ? "." + iterationInFlight : ""));
      return new HostState(
          completed,
          inFlight,
          checkpoint,
          undone,
          undoInFlight,
          rollingBack,
          result,
          iterations,
          inFlight > 0 ? iterationInFlight : 0);
    }
  }
}
