package io.runbook.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.journal.HostSummary.State;
import io.runbook.journal.RunSummary.RunOutcome;
import io.runbook.result.Outcome;
import io.runbook.step.Status;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads run journals back: what {@code runbook history} and {@code runbook show} print. A journal may end
 * anywhere, since the controller can be killed between two events or in the middle of writing one: lines
 * that are not JSON are counted and skipped, events of types this version does not know are ignored, and a
 * run without {@code run_finished} is {@link RunOutcome#INTERRUPTED}, its unfinished hosts in progress.
 */
public final class JournalReader {
  public static final String FILE = "journal.jsonl";
  /** The run id that means the newest run. */
  public static final String LAST = "last";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JournalReader() {}

  /** Every run under {@code <stateDir>/runs}, newest first. */
  public static List<RunSummary> list(Path stateDir) {
    return journals(stateDir).stream().map(JournalReader::read).toList();
  }

  /**
   * The journal files under {@code <stateDir>/runs}, newest run first. Reads only each file's first line,
   * so that a long history costs little until its runs are {@link #read}.
   */
  public static List<Path> journals(Path stateDir) {
    Path runs = stateDir.resolve("runs");
    if (!Files.isDirectory(runs)) return List.of();
    record Dated(Path file, Instant started, String id) {}
    try (Stream<Path> dirs = Files.list(runs)) {
      return dirs.map(d -> d.resolve(FILE)).filter(Files::isRegularFile)
          .map(f -> new Dated(f, started(f), f.getParent().getFileName().toString()))
          .sorted(Comparator.comparing(Dated::started).thenComparing(Dated::id).reversed())
          .map(Dated::file).toList();
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot list the runs in " + runs + ": " + e.getMessage(), e);
    }
  }

  /**
   * The run whose id is {@code idOrPrefix}, or the one run whose id starts with it; {@code last} is the newest.
   *
   * @throws RunbookException (invalid input) naming the newest runs, or the runs the prefix matches
   */
  public static RunSummary find(Path stateDir, String idOrPrefix) {
    if (idOrPrefix.equals(LAST)) {
      List<Path> all = journals(stateDir);
      if (all.isEmpty()) {
        throw new RunbookException(ErrorCode.INVALID_INPUT, "no runs in " + stateDir.resolve("runs")
            + " yet, so no 'last' run (pass --state-dir if the runs were journaled elsewhere)");
      }
      return read(all.get(0));
    }
    Path exact = stateDir.resolve("runs").resolve(idOrPrefix).resolve(FILE);
    if (!idOrPrefix.isBlank() && !idOrPrefix.contains("/") && Files.isRegularFile(exact)) return read(exact);
    List<Path> all = journals(stateDir);
    List<String> ids = all.stream().map(JournalReader::runId).toList();
    List<String> matches = ids.stream().filter(id -> !idOrPrefix.isEmpty() && id.startsWith(idOrPrefix)).toList();
    if (matches.size() == 1) return read(all.get(ids.indexOf(matches.get(0))));
    if (matches.size() > 1) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "'" + idOrPrefix + "' matches " + matches.size()
          + " runs: " + String.join(", ", matches.subList(0, Math.min(5, matches.size())))
          + (matches.size() > 5 ? ", ..." : "") + "; give more of the run id");
    }
    if (ids.isEmpty()) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "no run '" + idOrPrefix + "': there are no runs in "
          + stateDir.resolve("runs") + " (pass --state-dir if the runs were journaled elsewhere)");
    }
    throw new RunbookException(ErrorCode.INVALID_INPUT, "no run '" + idOrPrefix + "' in " + stateDir.resolve("runs")
        + "; the newest are: " + String.join(", ", ids.subList(0, Math.min(5, ids.size())))
        + " (see 'runbook history')");
  }

  /** Summarises one journal file. */
  public static RunSummary read(Path journal) {
    Summariser s = new Summariser(journal);
    try (BufferedReader in = reader(journal)) {
      for (String line; (line = in.readLine()) != null; ) s.line(line);
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot read the journal " + journal + ": " + e.getMessage(), e);
    }
    return s.summary();
  }

  private static String runId(Path journal) {
    return journal.toAbsolutePath().getParent().getFileName().toString();
  }

  /** Malformed UTF-8 (a line cut inside a character) decodes to U+FFFD instead of failing the read. */
  private static BufferedReader reader(Path journal) throws IOException {
    return new BufferedReader(new InputStreamReader(Files.newInputStream(journal), StandardCharsets.UTF_8));
  }

  /** When the run started, from the first line; else when the journal was last written. */
  private static Instant started(Path journal) {
    try (BufferedReader in = reader(journal)) {
      Instant at = instant(parse(in.readLine()), "at");
      return at != null ? at : Files.getLastModifiedTime(journal).toInstant();
    } catch (IOException e) {
      return Instant.EPOCH; // unreadable: listed last, and read() says why
    }
  }

  /** One journal line as a JSON object, or null when it is blank, cut short or not an object. */
  public static JsonNode parse(String line) {
    if (line == null || line.isBlank()) return null;
    try {
      JsonNode n = MAPPER.readTree(line);
      return n != null && n.isObject() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** A field as text; null when the node or the field is missing or JSON null. */
  public static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Instant instant(JsonNode n, String field) {
    String s = text(n, field);
    try {
      return s == null ? null : Instant.parse(s);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    if (array != null) array.forEach(v -> out.add(v.asText()));
    return out;
  }

  private static <E extends Enum<E>> E constant(Class<E> type, String name) {
    try {
      return name == null ? null : Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Folds the events of one journal, in order, into a {@link RunSummary}. */
  private static final class Summariser {
    private final Path journal;
    private final Map<String, HostState> hosts = new LinkedHashMap<>();
    private JsonNode runStarted;
    private JsonNode runFinished;
    private Instant lastAt;
    private int unreadable;

    Summariser(Path journal) {
      this.journal = journal;
    }

    void line(String line) {
      if (line.isBlank()) return;
      JsonNode e = parse(line);
      if (e == null) {
        unreadable++;
        return;
      }
      Instant at = instant(e, "at");
      if (at != null && (lastAt == null || at.isAfter(lastAt))) lastAt = at;
      String type = String.valueOf(text(e, "event"));
      switch (type) {
        case "run_started" -> {
          runStarted = e;
          strings(e.get("hosts")).forEach(this::host);
        }
        case "host_started" -> host(text(e, "host")).started(e);
        case "step_started" -> host(text(e, "host")).stepStarted(e);
        case "step_finished" -> host(text(e, "host")).stepFinished(e);
        case "rollback_started" -> host(text(e, "host")).rollbackStarted(e);
        case "rollback_finished" -> host(text(e, "host")).rollbackFinished(e);
        case "host_finished" -> host(text(e.path("result"), "host")).finished(e.get("result"));
        case "run_finished" -> runFinished = e.get("result");
        default -> { } // a newer engine's event (batches, locks): nothing a summary needs
      }
    }

    /** The host's state; an event that names no host updates a throwaway one. */
    private HostState host(String name) {
      return name == null ? new HostState("?") : hosts.computeIfAbsent(name, HostState::new);
    }

    RunSummary summary() {
      if (runFinished != null) {
        // hosts that never started (a stopped rollout) appear only in the run's result
        for (JsonNode h : runFinished.path("hosts")) {
          HostState s = host(text(h, "host"));
          if (s.result == null) s.finished(h);
        }
      }
      Instant started = instant(runStarted, "at");
      long duration = runFinished != null && runFinished.has("durationMillis")
          ? runFinished.get("durationMillis").asLong()
          : started != null && lastAt != null ? Duration.between(started, lastAt).toMillis() : 0;
      List<HostSummary> summaries = hosts.values().stream().map(h -> h.summary(lastAt)).toList();
      String id = text(runStarted, "runId");
      return new RunSummary(id != null ? id : runId(journal), text(runStarted, "runbook"),
          text(runStarted, "runbookName"), text(runStarted, "inventory"), text(runStarted, "user"),
          text(runStarted, "controller"), runStarted != null && runStarted.has("forks")
              ? runStarted.get("forks").asInt() : null,
          started, duration, outcome(summaries), text(runFinished, "stopped"), summaries, journal, unreadable);
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
          default -> { }
        }
      }
      if (rollbackFailed) return RunOutcome.ROLLBACK_FAILED;
      if (runFinished == null || runFinished.path("interrupted").asBoolean(false)) return RunOutcome.INTERRUPTED;
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
    String mode;
    Instant startedAt;
    JsonNode result;
    String failedStep, message, rollbackError;
    List<String> notUndone = List.of();
    int open = -1;

    HostState(String name) {
      this.name = name;
    }

    void started(JsonNode e) {
      mode = text(e, "mode");
      startedAt = instant(e, "at");
    }

    void stepStarted(JsonNode e) {
      if (startedAt == null) startedAt = instant(e, "at");
      steps.add(step(e, null, null));
      open = steps.size() - 1;
    }

    void stepFinished(JsonNode e) {
      JsonNode r = e.path("result");
      StepRecord done = step(e, constant(Status.class, text(r, "status")), r);
      if (open >= 0 && steps.get(open).name().equals(done.name()) && steps.get(open).rollback() == done.rollback()) {
        steps.set(open, new StepRecord(done.phase(), done.index(), done.name(), done.type(), done.rollback(),
            done.forStep(), steps.get(open).startedAt(), done.status(), done.message(), done.durationMillis(),
            done.attempts()));
      } else {
        steps.add(done);
      }
      open = -1;
    }

    private static StepRecord step(JsonNode e, Status status, JsonNode r) {
      return new StepRecord(text(e, "phase"), e.path("index").asInt(), String.valueOf(text(e, "name")),
          text(e, "type"), e.path("rollback").asBoolean(false), text(e, "forStep"), r == null ? instant(e, "at") : null,
          status, text(r, "message"), r == null ? 0 : r.path("durationMillis").asLong(),
          r == null ? 0 : r.path("attempts").asInt(1));
    }

    void rollbackStarted(JsonNode e) {
      failedStep = text(e, "failedStep");
      message = text(e, "reason");
    }

    void rollbackFinished(JsonNode e) {
      if (!e.path("succeeded").asBoolean(true)) rollbackError = text(e, "message");
      notUndone = strings(e.get("notUndone"));
    }

    void finished(JsonNode r) {
      if (r == null) return;
      result = r;
      if (text(r, "mode") != null) mode = text(r, "mode");
      failedStep = text(r, "failedStep");
      message = text(r, "message");
      if (text(r, "rollbackError") != null) rollbackError = text(r, "rollbackError");
    }

    HostSummary summary(Instant lastAt) {
      StepRecord inFlight = open >= 0 ? steps.get(open) : null;
      if (result != null) {
        String outcomeName = text(result, "outcome");
        Outcome outcome = constant(Outcome.class, outcomeName);
        String label = outcome != null ? outcome.label() : String.valueOf(outcomeName).toLowerCase().replace('_', ' ');
        return new HostSummary(name, mode, State.FINISHED, outcome, label, result.path("ok").asInt(),
            result.path("changed").asInt(), result.path("failed").asInt(), result.path("skipped").asInt(),
            result.path("rolledBack").asInt(), failedStep, message, rollbackError, notUndone,
            result.path("durationMillis").asLong(), null, steps);
      }
      int[] n = new int[Status.values().length];
      int undone = 0;
      for (StepRecord s : steps) {
        if (s.status() == null) continue;
        if (!s.rollback()) n[s.status().ordinal()]++;
        else if (s.status() != Status.FAILED) undone++;
      }
      boolean started = startedAt != null;
      long elapsed = started && lastAt != null ? Duration.between(startedAt, lastAt).toMillis() : 0;
      return new HostSummary(name, mode, started ? State.IN_PROGRESS : State.NOT_STARTED, null,
          started ? "in progress" : "not started", n[Status.OK.ordinal()], n[Status.CHANGED.ordinal()],
          n[Status.FAILED.ordinal()], n[Status.SKIPPED.ordinal()], undone, failedStep, message, rollbackError,
          notUndone, elapsed, inFlight, steps);
    }

  }
}
