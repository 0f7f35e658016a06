package io.runbook.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.event.BatchFinished;
import io.runbook.event.BatchStarted;
import io.runbook.event.Event;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackPushed;
import io.runbook.event.RollbackStarted;
import io.runbook.event.RunFinished;
import io.runbook.event.RunResumed;
import io.runbook.event.RunStarted;
import io.runbook.event.StepCheckpoint;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.journal.HostSummary;
import io.runbook.journal.JournalEvents;
import io.runbook.journal.JournalReader;
import io.runbook.journal.RunSummary;
import io.runbook.report.RunReport.Batch;
import io.runbook.report.RunReport.Host;
import io.runbook.report.RunReport.Idle;
import io.runbook.report.RunReport.Kind;
import io.runbook.report.RunReport.Marker;
import io.runbook.report.RunReport.Rollback;
import io.runbook.report.RunReport.Step;
import io.runbook.result.RunResult;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link RunReport} from a journal: a fold over the typed events {@link
 * JournalReader#events} reads, the same ones the recap ({@link RunSummary}) is folded from. Like
 * {@link JournalReader}, it takes a journal as it is: lines that are not events are the recap's
 * damage, events it does not draw are skipped, and a journal without an end leaves its last steps
 * in flight. Events of one host are in order in the journal, but their clocks may disagree by a
 * millisecond across threads, so no bar ends before it starts.
 */
public final class ReportReader {
  /** What {@code runbook rehearse} leaves beside the journal. */
  public static final String REHEARSAL_FILE = "rehearsal.json";

  /** What {@code apply --measure-downtime} leaves beside the journal. */
  public static final String DOWNTIME_FILE = "downtime.json";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A silence is cut from the timeline when it is longer than this ... */
  static final long IDLE_MIN_MILLIS = 5_000;

  /** ... and than this share of the whole run. */
  static final double IDLE_MIN_SHARE = 0.15;

  private ReportReader() {}

  public static RunReport read(Path journal) {
    JournalReader.Journal events = JournalReader.events(journal);
    Folder f = new Folder();
    for (JournalEvents.Line line : events.events()) f.on(line.event());
    return f.report(
        JournalReader.summarise(events),
        sibling(journal.resolveSibling(REHEARSAL_FILE)),
        sibling(journal.resolveSibling(DOWNTIME_FILE)));
  }

  private static JsonNode sibling(Path file) {
    if (!Files.isRegularFile(file)) return null;
    try {
      return MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      // the page still shows the run; the section says what went wrong with the file
      return MAPPER.createObjectNode().put("unreadable", file + ": " + e.getMessage());
    }
  }

  private static List<String> list(List<String> l) {
    return l == null ? List.of() : l;
  }

  /** The host an event is about, or null for a run-wide one. */
  private static String hostOf(Event event) {
    if (event instanceof HostStarted e) return e.host();
    if (event instanceof StepStarted e) return e.host();
    if (event instanceof StepFinished e) return e.host();
    if (event instanceof StepCheckpoint e) return e.host();
    if (event instanceof RollbackStarted e) return e.host();
    if (event instanceof RollbackPushed e) return e.host();
    if (event instanceof RollbackFinished e) return e.host();
    if (event instanceof LockChanged e) return e.host();
    if (event instanceof OrphanFound e) return e.host();
    if (event instanceof HostFinished e) return e.result() == null ? null : e.result().host();
    return null;
  }

  /** Folds the events of one journal, in order. */
  private static final class Folder {
    final Map<String, Lane> lanes = new LinkedHashMap<>();
    final List<Batch> batches = new ArrayList<>();
    final List<Marker> markers = new ArrayList<>();
    final List<Long> times = new ArrayList<>();
    Instant t0;
    Instant last;
    Instant ended;
    RunResult result;
    int nextId;

    void on(Event event) {
      Instant at = event.at() != null ? event.at() : last != null ? last : Instant.EPOCH;
      if (t0 == null) t0 = at;
      if (last == null || at.isAfter(last)) last = at;
      long ms = offset(at);
      times.add(ms);
      if (event instanceof RunStarted e) {
        t0 = at;
        list(e.hosts()).forEach(this::lane);
      } else if (event instanceof RunResumed e) {
        markers.add(new Marker(ms, null, String.valueOf(e.action()), by(e.user(), e.controller())));
      } else if (event instanceof HostStarted e) {
        Lane l = lane(e.host());
        if (e.mode() != null) l.mode = e.mode();
        if (l.start == null) l.start = ms;
      } else if (event instanceof StepStarted e) {
        lane(e.host()).stepStarted(e, ms, nextId++);
      } else if (event instanceof StepFinished e && !e.loopSummary()) {
        lane(e.host()).stepFinished(e, ms, nextId++);
      } else if (event instanceof RollbackStarted e) {
        lane(e.host())
            .rollbacks
            .add(new Rollback(ms, null, e.failedStep(), e.reason(), e.stack(), null, null, null));
      } else if (event instanceof RollbackFinished e) {
        lane(e.host()).rollbackFinished(e, ms);
      } else if (event instanceof LockChanged e) {
        Lane l = lane(e.host());
        // "lost" names the run that has the lock now; the others the run it was taken from
        String from =
            e.from() == null ? "" : ("lost".equals(e.action()) ? " to " : " from ") + e.from();
        l.events.add(new Marker(ms, l.name, "lock", e.action() + from));
      } else if (event instanceof HostFinished e && e.result() != null) {
        Lane l = lane(e.result().host());
        if (e.result().mode() != null) l.mode = e.result().mode();
        l.end = ms;
      } else if (event instanceof BatchStarted e) {
        batchStarted(e, ms);
      } else if (event instanceof BatchFinished e) {
        batchFinished(e, ms);
      } else if (event instanceof RunFinished e) {
        ended = at;
        result = e.result();
      }
      // checkpoints, pushed undo, orphans: the recap's notices say what the page needs of them
      String host = hostOf(event);
      Lane l = host == null ? null : lanes.get(host);
      if (l != null) l.last = Math.max(l.last, ms);
    }

    private static String by(String user, String controller) {
      if (user == null) return controller;
      return controller == null ? user : user + "@" + controller;
    }

    long offset(Instant at) {
      return Math.max(0, Duration.between(t0, at).toMillis());
    }

    Lane lane(String name) {
      return lanes.computeIfAbsent(name == null ? "?" : name, Lane::new);
    }

    /**
     * A batch once, however often it started: a resumed run does not start a batch the journal has
     * again, but an older engine's resume did.
     */
    void batchStarted(BatchStarted e, long ms) {
      if (batches.stream().anyMatch(b -> b.number() == e.batch())) return;
      batches.add(new Batch(e.batch(), e.batches(), list(e.hosts()), ms, null, null, null, null));
    }

    /** The batch's end; when it ended twice (an older engine's resume ran it again), the last. */
    void batchFinished(BatchFinished e, long ms) {
      for (int i = 0; i < batches.size(); i++) {
        Batch b = batches.get(i);
        if (b.number() == e.batch()) {
          batches.set(
              i,
              new Batch(
                  b.number(),
                  b.of(),
                  b.hosts(),
                  b.startMillis(),
                  Math.max(ms, b.startMillis()),
                  e.failed(),
                  e.decision(),
                  e.reason()));
          return;
        }
      }
    }

    RunReport report(RunSummary summary, JsonNode rehearsal, JsonNode downtime) {
      long span = t0 == null ? 0 : offset(last);
      Map<String, Integer> batchOf = new LinkedHashMap<>();
      for (Batch b : batches) b.hosts().forEach(h -> batchOf.put(h, b.number()));
      Map<String, HostSummary> recaps = new LinkedHashMap<>();
      summary.hosts().forEach(h -> recaps.put(h.host(), h));
      recaps.keySet().forEach(this::lane); // hosts that only the run's result names
      List<Host> hosts = new ArrayList<>();
      for (Lane l : lanes.values()) {
        HostSummary recap = recaps.get(l.name);
        String mode = l.mode != null ? l.mode : recap == null ? null : recap.mode();
        hosts.add(
            new Host(
                l.name,
                mode,
                recap,
                batchOf.get(l.name),
                l.start,
                l.end,
                l.steps(span),
                l.rollbacks,
                l.events));
      }
      return new RunReport(
          summary,
          t0,
          ended,
          span,
          exitCode(),
          hosts,
          batches,
          markers,
          idle(hosts, span),
          rehearsal,
          downtime);
    }

    /**
     * Silences between two events that no step spans, long enough to squeeze the rest of the run.
     */
    private List<Idle> idle(List<Host> hosts, long span) {
      List<Long> sorted = times.stream().sorted().toList();
      List<Idle> out = new ArrayList<>();
      for (int i = 1; i < sorted.size(); i++) {
        long from = sorted.get(i - 1), to = sorted.get(i);
        if (to - from < IDLE_MIN_MILLIS || to - from < span * IDLE_MIN_SHARE) continue;
        boolean busy =
            hosts.stream()
                .flatMap(h -> h.steps().stream())
                .anyMatch(s -> s.startMillis() <= from && s.endMillis() >= to);
        if (!busy) out.add(new Idle(from, to));
      }
      return out;
    }

    private Integer exitCode() {
      // a newer engine's outcome this version does not know reads as null: the page says it cannot
      // tell
      if (result == null
          || result.hosts() == null
          || result.hosts().stream().anyMatch(h -> h == null || h.outcome() == null)) {
        return null;
      }
      return result.exitCode();
    }
  }

  /** One host's events so far. */
  private static final class Lane {
    final String name;
    final List<Step> steps = new ArrayList<>();
    final List<Rollback> rollbacks = new ArrayList<>();
    final List<Marker> events = new ArrayList<>();
    String mode;
    Long start;
    Long end;
    int open = -1;
    long last;

    Lane(String name) {
      this.name = name;
    }

    void stepStarted(StepStarted e, long ms, int id) {
      if (start == null) start = ms;
      if (open >= 0) {
        // the controller stopped during that step, and a resumed run went on: it ran until the
        // host's last event
        Step s = steps.get(open);
        steps.set(
            open,
            new Step(
                s.id(),
                s.phase(),
                s.index(),
                s.name(),
                s.type(),
                s.kind(),
                s.forStep(),
                null,
                s.startMillis(),
                Math.max(s.startMillis(), last),
                0,
                0,
                null,
                null,
                null,
                null));
      }
      steps.add(
          new Step(
              id,
              e.phase(),
              e.index(),
              shownName(e.name(), e.delegate()),
              e.type(),
              kind(e.rollback(), e.phase()),
              e.forStep(),
              null,
              ms,
              ms,
              0,
              0,
              null,
              null,
              null,
              null));
      open = steps.size() - 1;
    }

    void stepFinished(StepFinished e, long ms, int id) {
      StepResult r = e.result();
      // a status this version does not know (a newer engine's) is drawn as a failure: worth a look
      Status status = r == null || r.status() == null ? Status.FAILED : r.status();
      long duration = r == null ? 0 : r.durationMillis();
      Kind kind = kind(e.rollback(), e.phase());
      Step s = open >= 0 ? steps.get(open) : null;
      boolean same =
          s != null && s.name().equals(shownName(e.name(), e.delegate())) && s.kind() == kind;
      int stepId = same ? s.id() : id;
      // a finish without its start is a journal written by an engine that did not emit it
      long from = same ? s.startMillis() : Math.max(0, ms - duration);
      Step done =
          new Step(
              stepId,
              e.phase(),
              e.index(),
              shownName(e.name(), e.delegate()),
              e.type(),
              kind,
              e.forStep(),
              status,
              from,
              Math.max(ms, from),
              duration,
              r == null ? 1 : Math.max(1, r.attempts()),
              r == null ? null : r.rc(),
              r == null ? null : r.message(),
              r == null ? null : r.stdout(),
              r == null ? null : r.stderr());
      if (same) steps.set(open, done);
      else steps.add(done);
      open = -1;
    }

    private static Kind kind(boolean rollback, String phase) {
      if (rollback) return Kind.ROLLBACK;
      return "gate".equals(phase) ? Kind.GATE : Kind.STEP;
    }

    void rollbackFinished(RollbackFinished e, long ms) {
      if (rollbacks.isEmpty())
        rollbacks.add(new Rollback(ms, null, null, null, List.of(), null, null, null));
      Rollback r = rollbacks.get(rollbacks.size() - 1);
      rollbacks.set(
          rollbacks.size() - 1,
          new Rollback(
              r.startMillis(),
              ms,
              r.failedStep(),
              r.reason(),
              r.stack(),
              e.succeeded(),
              e.message(),
              e.notUndone()));
    }

    /** The steps, a step still in flight running to the journal's end. */
    List<Step> steps(long span) {
      if (open < 0) return steps;
      List<Step> out = new ArrayList<>(steps);
      Step s = out.get(open);
      out.set(
          open,
          new Step(
              s.id(),
              s.phase(),
              s.index(),
              s.name(),
              s.type(),
              s.kind(),
              s.forStep(),
              null,
              s.startMillis(),
              Math.max(span, s.startMillis()),
              Math.max(0, span - s.startMillis()),
              0,
              null,
              null,
              null,
              null));
      return out;
    }
  }

  /** A delegated step shows where it ran: {@code Drain app2 → lb}. */
  private static String shownName(String name, String delegate) {
    return delegate == null ? String.valueOf(name) : name + " → " + delegate;
  }
}
