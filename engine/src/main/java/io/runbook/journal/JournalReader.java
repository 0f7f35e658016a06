package io.runbook.journal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.HostFinished;
import io.runbook.event.HostStarted;
import io.runbook.event.LockChanged;
import io.runbook.event.OrphanFound;
import io.runbook.event.RollbackFinished;
import io.runbook.event.RollbackStarted;
import io.runbook.event.RunFinished;
import io.runbook.event.RunStarted;
import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.journal.HostSummary.State;
import io.runbook.journal.RunSummary.RunOutcome;
import io.runbook.result.HostResult;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads run journals back: what {@code runbook history} and {@code runbook show} print, a fold over
 * the journal's typed events ({@link JournalEvents}). A journal may end anywhere, since the
 * controller can be killed between two events or in the middle of writing one: lines that are not
 * events are the summary's {@link RunSummary#damage damage}, each with its line number; events of
 * types this version does not know are ignored; and a run without {@code run_finished} is {@link
 * RunOutcome#INTERRUPTED}, its unfinished hosts in progress.
 */
public final class JournalReader {
  public static final String FILE = "journal.jsonl";

  /** The run id that means the newest run. */
  public static final String LAST = "last";

  /** For a newer engine's event of a known type: values this version does not know read as null. */
  private static final ObjectMapper LENIENT =
      EventJson.MAPPER.copy().enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL);

  private JournalReader() {}

  /** Every run under {@code <stateDir>/runs}, newest first. */
  public static List<RunSummary> list(Path stateDir) {
    return journals(stateDir).stream().map(JournalReader::read).toList();
  }

  /**
   * The journal files under {@code <stateDir>/runs}, newest run first. Reads only each file's first
   * line, so that a long history costs little until its runs are {@link #read}.
   */
  public static List<Path> journals(Path stateDir) {
    Path runs = stateDir.resolve("runs");
    if (!Files.isDirectory(runs)) return List.of();
    record Dated(Path file, Instant started, String id) {}
    try (Stream<Path> dirs = Files.list(runs)) {
      return dirs.map(d -> d.resolve(FILE))
          .filter(Files::isRegularFile)
          .map(f -> new Dated(f, started(f), f.getParent().getFileName().toString()))
          .sorted(Comparator.comparing(Dated::started).thenComparing(Dated::id).reversed())
          .map(Dated::file)
          .toList();
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL, "cannot list the runs in " + runs + ": " + e.getMessage(), e);
    }
  }

  /**
   * The run whose id is {@code idOrPrefix}, or the one run whose id starts with it; {@code last} is
   * the newest.
   *
   * @throws RunbookException (invalid input) naming the newest runs, or the runs the prefix matches
   */
  public static RunSummary find(Path stateDir, String idOrPrefix) {
    if (idOrPrefix.equals(LAST)) {
      List<Path> all = journals(stateDir);
      if (all.isEmpty()) {
        throw new RunbookException(
            ErrorCode.INVALID_INPUT,
            "no runs in "
                + stateDir.resolve("runs")
                + " yet, so no 'last' run (pass --state-dir if the runs were journaled elsewhere)");
      }
      return read(all.get(0));
    }
    Path exact = stateDir.resolve("runs").resolve(idOrPrefix).resolve(FILE);
    if (!idOrPrefix.isBlank() && !idOrPrefix.contains("/") && Files.isRegularFile(exact))
      return read(exact);
    List<Path> all = journals(stateDir);
    List<String> ids = all.stream().map(JournalReader::runId).toList();
    List<String> matches =
        ids.stream().filter(id -> !idOrPrefix.isEmpty() && id.startsWith(idOrPrefix)).toList();
    if (matches.size() == 1) return read(all.get(ids.indexOf(matches.get(0))));
    if (matches.size() > 1) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "'"
              + idOrPrefix
              + "' matches "
              + matches.size()
              + " runs: "
              + String.join(", ", matches.subList(0, Math.min(5, matches.size())))
              + (matches.size() > 5 ? ", ..." : "")
              + "; give more of the run id");
    }
    if (ids.isEmpty()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "no run '"
              + idOrPrefix
              + "': there are no runs in "
              + stateDir.resolve("runs")
              + " (pass --state-dir if the runs were journaled elsewhere)");
    }
    throw new RunbookException(
        ErrorCode.INVALID_INPUT,
        "no run '"
            + idOrPrefix
            + "' in "
            + stateDir.resolve("runs")
            + "; the newest are: "
            + String.join(", ", ids.subList(0, Math.min(5, ids.size())))
            + " (see 'runbook history')");
  }

  /** Summarises one journal file. */
  public static RunSummary read(Path journal) {
    return summarise(events(journal));
  }

  /**
   * A journal as {@code history}, {@code show} and the report take it: its {@link JournalEvents},
   * plus what a newer engine wrote that this version can still read in part (see {@link #events}).
   *
   * @param events the events in the order they were written, with their line numbers
   * @param damage the lines that are not events: cut short, or damaged on disk
   * @param unknownOutcomes the outcome a newer engine named for a host ({@code
   *     PAUSED_FOR_APPROVAL}) where the event's {@link HostResult} holds null, by the event's line
   *     and the host
   */
  public record Journal(
      Path file,
      List<JournalEvents.Line> events,
      List<JournalEvents.Damage> damage,
      Map<LineHost, String> unknownOutcomes) {
    public Journal {
      events = List.copyOf(events);
      damage = List.copyOf(damage);
      unknownOutcomes = Map.copyOf(unknownOutcomes);
    }
  }

  /** A host named on one journal line. */
  public record LineHost(int line, String host) {}

  /**
   * Reads a journal with {@link JournalEvents}, then looks again at its lines that are not events:
   * a whole JSON object of an event type this version does not know (written by a newer engine) is
   * left out, not damage, as is one of a known type whose values it does not know (a new outcome or
   * status), which is read with those values null. The rest are damage. Resume and rollback stay
   * strict: for them any such line may hide an outcome.
   */
  public static Journal events(Path journal) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(journal);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL, "cannot read the journal " + journal + ": " + e.getMessage(), e);
    }
    JournalEvents typed = JournalEvents.parse(journal, bytes);
    if (typed.damage().isEmpty()) return new Journal(journal, typed.events(), List.of(), Map.of());
    List<JournalEvents.Line> events = new ArrayList<>(typed.events());
    List<JournalEvents.Damage> damage = new ArrayList<>();
    Map<LineHost, String> unknown = new HashMap<>();
    Map<Integer, String> texts =
        lines(
            bytes,
            typed.damage().stream().map(JournalEvents.Damage::line).collect(Collectors.toSet()));
    for (JournalEvents.Damage d : typed.damage()) {
      JsonNode node = object(texts.get(d.line()));
      if (node == null) {
        damage.add(d);
        continue;
      }
      Class<? extends Event> type = JournalEvents.type(node.path("event").asText(""));
      if (type == null) continue; // a newer engine's event: nothing a summary needs
      Event event = lenient(node, type);
      if (event == null) {
        damage.add(d);
        continue;
      }
      events.add(new JournalEvents.Line(d.line(), event));
      unknownOutcomes(d.line(), node, event, unknown);
    }
    events.sort(Comparator.comparingInt(JournalEvents.Line::number));
    return new Journal(journal, events, damage, unknown);
  }

  /** Folds a journal's events, in order, into a {@link RunSummary}. */
  public static RunSummary summarise(Journal journal) {
    Summariser s = new Summariser(journal);
    for (JournalEvents.Line line : journal.events()) s.on(line);
    return s.summary();
  }

  private static String runId(Path journal) {
    return journal.toAbsolutePath().getParent().getFileName().toString();
  }

  /**
   * When the run started, from the first line only (so that listing a long history stays cheap);
   * else when the journal was last written.
   */
  private static Instant started(Path journal) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(journal))) {
      ByteArrayOutputStream first = new ByteArrayOutputStream();
      for (int b; (b = in.read()) != -1 && b != '\n'; ) first.write(b);
      List<JournalEvents.Line> events = JournalEvents.parse(journal, first.toByteArray()).events();
      Instant at = events.isEmpty() ? null : events.get(0).event().at();
      return at != null ? at : Files.getLastModifiedTime(journal).toInstant();
    } catch (IOException e) {
      return Instant.EPOCH; // unreadable: listed last, and read() says why
    }
  }

  /**
   * The text of the lines numbered {@code wanted} (1-based, as {@link JournalEvents} counts),
   * strict UTF-8.
   */
  private static Map<Integer, String> lines(byte[] bytes, Set<Integer> wanted) {
    Map<Integer, String> out = new HashMap<>();
    int lineNo = 0;
    for (int start = 0; start < bytes.length; ) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') end++;
      lineNo++;
      if (wanted.contains(lineNo)) {
        try {
          out.put(
              lineNo,
              StandardCharsets.UTF_8
                  .newDecoder()
                  .onMalformedInput(CodingErrorAction.REPORT)
                  .onUnmappableCharacter(CodingErrorAction.REPORT)
                  .decode(ByteBuffer.wrap(bytes, start, end - start))
                  .toString());
        } catch (CharacterCodingException e) {
          // not text: damage
        }
      }
      start = end + 1;
    }
    return out;
  }

  /** A line that is one whole JSON object naming its event type, or null. */
  private static JsonNode object(String text) {
    if (text == null) return null;
    try {
      JsonNode node = EventJson.MAPPER.readTree(text);
      return node != null && node.isObject() && node.path("event").isTextual() ? node : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static Event lenient(JsonNode node, Class<? extends Event> type) {
    try {
      return LENIENT.treeToValue(node, type);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The outcome names a newer engine wrote where {@code event}'s results read null. */
  private static void unknownOutcomes(
      int line, JsonNode node, Event event, Map<LineHost, String> out) {
    if (event instanceof HostFinished e && e.result() != null && e.result().outcome() == null) {
      String name = node.path("result").path("outcome").asText(null);
      if (name != null) out.put(new LineHost(line, e.result().host()), name);
    } else if (event instanceof RunFinished e && e.result() != null && e.result().hosts() != null) {
      JsonNode hosts = node.path("result").path("hosts");
      for (int i = 0; i < e.result().hosts().size(); i++) {
        HostResult h = e.result().hosts().get(i);
        String name = hosts.path(i).path("outcome").asText(null);
        if (h != null && h.outcome() == null && name != null)
          out.put(new LineHost(line, h.host()), name);
      }
    }
  }

  /** Folds the events of one journal, in order, into a {@link RunSummary}. */
  private static final class Summariser {
    private final Journal journal;
    private final Map<String, HostState> hosts = new LinkedHashMap<>();
    private RunStarted runStarted;
    private RunResult runFinished;
    private int runFinishedLine;
    private Instant lastAt;

    Summariser(Journal journal) {
      this.journal = journal;
    }

    void on(JournalEvents.Line line) {
      Event event = line.event();
      Instant at = event.at();
      if (at != null && (lastAt == null || at.isAfter(lastAt))) lastAt = at;
      if (event instanceof RunStarted e) {
        runStarted = e;
        if (e.hosts() != null) e.hosts().forEach(this::host);
      } else if (event instanceof HostStarted e) {
        host(e.host()).started(e);
      } else if (event instanceof StepStarted e) {
        host(e.host()).stepStarted(e);
      } else if (event instanceof StepFinished e && !e.loopSummary()) {
        host(e.host()).stepFinished(e);
      } else if (event instanceof RollbackStarted e) {
        host(e.host()).rollbackStarted(e);
      } else if (event instanceof RollbackFinished e) {
        host(e.host()).rollbackFinished(e);
      } else if (event instanceof HostFinished e && e.result() != null) {
        host(e.result().host()).finished(e.result(), outcomeName(line.number(), e.result()));
      } else if (event instanceof OrphanFound e) {
        host(e.host())
            .orphans
            .add(new HostSummary.Orphan(e.run(), e.processes(), e.action(), e.waitedMillis()));
      } else if (event instanceof LockChanged e && "lost".equals(e.action())) {
        host(e.host()).lockLostTo = e.from() == null ? "another controller" : e.from();
      } else if (event instanceof RunFinished e && e.result() != null) {
        runFinished = e.result();
        runFinishedLine = line.number();
      }
      // batches, checkpoints, other locks changes, resumes: nothing a summary needs
    }

    /** The outcome's name as the journal wrote it, when this version does not know it. */
    private String outcomeName(int line, HostResult r) {
      return r.outcome() != null
          ? r.outcome().name()
          : journal.unknownOutcomes().get(new LineHost(line, r.host()));
    }

    /** The host's state; an event that names no host updates a throwaway one. */
    private HostState host(String name) {
      return name == null ? new HostState("?") : hosts.computeIfAbsent(name, HostState::new);
    }

    RunSummary summary() {
      if (runFinished != null && runFinished.hosts() != null) {
        // hosts that never started (a stopped rollout) appear only in the run's result
        for (HostResult h : runFinished.hosts()) {
          if (h == null) continue;
          HostState s = host(h.host());
          if (s.result == null) s.finished(h, outcomeName(runFinishedLine, h));
        }
      }
      RunStarted rs = runStarted;
      Instant started = rs == null ? null : rs.at();
      long duration =
          runFinished != null
              ? runFinished.durationMillis()
              : started != null && lastAt != null
                  ? Duration.between(started, lastAt).toMillis()
                  : 0;
      List<HostSummary> summaries = hosts.values().stream().map(h -> h.summary(lastAt)).toList();
      String id = rs == null ? null : rs.runId();
      Path file = journal.file();
      return new RunSummary(
          id != null ? id : runId(file),
          rs == null ? null : rs.runbook(),
          rs == null ? null : rs.runbookName(),
          rs == null ? null : rs.inventory(),
          rs == null ? null : rs.user(),
          rs == null ? null : rs.controller(),
          rs == null || rs.forks() <= 0 ? null : rs.forks(),
          started,
          duration,
          outcome(summaries),
          runFinished == null ? null : runFinished.stopped(),
          summaries,
          file,
          journal.damage().size(),
          journal.damage());
    }

    private RunOutcome outcome(List<HostSummary> hs) {
      boolean rollbackFailed = false, failed = false, rolledBack = false, cleanup = false;
      for (HostSummary h : hs) {
        if (h.outcome() == null) continue;
        switch (h.outcome()) {
          case ROLLBACK_FAILED -> rollbackFailed = true;
          case FAILED, UNREACHABLE -> failed = true;
          case ROLLED_BACK, UNDONE -> rolledBack = true;
          case CLEANUP_FAILED -> cleanup = true;
          default -> {}
        }
      }
      if (rollbackFailed) return RunOutcome.ROLLBACK_FAILED;
      if (runFinished == null || runFinished.interrupted()) return RunOutcome.INTERRUPTED;
      boolean noneRan = !hs.isEmpty() && hs.stream().allMatch(h -> h.outcome() == Outcome.NOT_RUN);
      if (failed || noneRan) return RunOutcome.FAILED;
      if (rolledBack) return RunOutcome.ROLLED_BACK;
      return cleanup ? RunOutcome.CLEANUP_FAILED : RunOutcome.SUCCEEDED;
    }
  }

  /** One host's events so far. */
  private static final class HostState {
    final String name;
    final List<StepRecord> steps = new ArrayList<>();
    final List<HostSummary.Orphan> orphans = new ArrayList<>();
    String mode;
    Instant startedAt;
    HostResult result;
    String outcomeName;
    String failedStep, message, rollbackError, lockLostTo;
    List<String> notUndone = List.of();
    int open = -1;

    HostState(String name) {
      this.name = name;
    }

    void started(HostStarted e) {
      mode = e.mode();
      startedAt = e.at();
    }

    void stepStarted(StepStarted e) {
      if (startedAt == null) startedAt = e.at();
      steps.add(
          new StepRecord(
              e.phase(),
              e.index(),
              shownName(e.name(), e.delegate()),
              e.type(),
              e.rollback(),
              e.forStep(),
              e.at(),
              null,
              null,
              0,
              0));
      open = steps.size() - 1;
    }

    void stepFinished(StepFinished e) {
      StepResult r = e.result();
      StepRecord started = open >= 0 ? steps.get(open) : null;
      boolean same =
          started != null
              && started.name().equals(shownName(e.name(), e.delegate()))
              && started.rollback() == e.rollback();
      StepRecord done =
          new StepRecord(
              e.phase(),
              e.index(),
              shownName(e.name(), e.delegate()),
              e.type(),
              e.rollback(),
              e.forStep(),
              same ? started.startedAt() : null,
              r == null ? null : r.status(),
              r == null ? null : r.message(),
              r == null ? 0 : r.durationMillis(),
              r == null ? 1 : Math.max(1, r.attempts()));
      if (same) steps.set(open, done);
      else steps.add(done);
      open = -1;
    }

    void rollbackStarted(RollbackStarted e) {
      failedStep = e.failedStep();
      message = e.reason();
    }

    void rollbackFinished(RollbackFinished e) {
      if (!e.succeeded()) rollbackError = e.message();
      notUndone = e.notUndone() == null ? List.of() : e.notUndone();
    }

    void finished(HostResult r, String outcome) {
      result = r;
      outcomeName = outcome;
      if (r.mode() != null) mode = r.mode();
      failedStep = r.failedStep();
      message = r.message();
      if (r.rollbackError() != null) rollbackError = r.rollbackError();
    }

    HostSummary summary(Instant lastAt) {
      StepRecord inFlight = open >= 0 ? steps.get(open) : null;
      if (result != null) {
        Outcome outcome = result.outcome();
        String label =
            outcome != null
                ? outcome.label()
                : outcomeName != null
                    ? outcomeName.toLowerCase(Locale.ROOT).replace('_', ' ')
                    : "unknown";
        return new HostSummary(
            name,
            mode,
            State.FINISHED,
            outcome,
            label,
            result.ok(),
            result.changed(),
            result.failed(),
            result.skipped(),
            result.rolledBack(),
            failedStep,
            message,
            rollbackError,
            notUndone,
            result.durationMillis(),
            null,
            steps,
            orphans,
            lockLostTo);
      }
      Map<Status, Integer> n = new EnumMap<>(Status.class);
      int undone = 0;
      for (StepRecord s : steps) {
        if (s.status() == null) continue;
        if (!s.rollback()) n.merge(s.status(), 1, Integer::sum);
        else if (s.status() != Status.FAILED) undone++;
      }
      boolean started = startedAt != null;
      long elapsed = started && lastAt != null ? Duration.between(startedAt, lastAt).toMillis() : 0;
      return new HostSummary(
          name,
          mode,
          started ? State.IN_PROGRESS : State.NOT_STARTED,
          null,
          started ? "in progress" : "not started",
          n.getOrDefault(Status.OK, 0),
          n.getOrDefault(Status.CHANGED, 0),
          n.getOrDefault(Status.FAILED, 0),
          n.getOrDefault(Status.SKIPPED, 0),
          undone,
          failedStep,
          message,
          rollbackError,
          notUndone,
          elapsed,
          inFlight,
          steps,
          orphans,
          lockLostTo);
    }
  }

  /** A delegated step shows where it ran: {@code Drain app2 → lb}. */
  private static String shownName(String name, String delegate) {
    return delegate == null ? String.valueOf(name) : name + " → " + delegate;
  }
}
