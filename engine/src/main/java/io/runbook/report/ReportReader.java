package io.runbook.report;

import static io.runbook.journal.JournalReader.parse;
import static io.runbook.journal.JournalReader.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.journal.EventJson;
import io.runbook.journal.HostSummary;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link RunReport} from a journal. Like {@link JournalReader}, it takes a journal as it is: lines
 * that are not JSON and events it does not know are skipped, and a journal without an end leaves its
 * last steps in flight. Events of one host are in order in the journal, but their clocks may disagree by
 * a millisecond across threads, so no bar ends before it starts.
 */
public final class ReportReader {
  /** What {@code runbook rehearse} leaves beside the journal. */
  public static final String REHEARSAL_FILE = "rehearsal.json";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** A silence is cut from the timeline when it is longer than this ... */
  static final long IDLE_MIN_MILLIS = 5_000;
  /** ... and than this share of the whole run. */
  static final double IDLE_MIN_SHARE = 0.15;

  private ReportReader() {}

  public static RunReport read(Path journal) {
    RunSummary summary = JournalReader.read(journal);
    Folder f = new Folder();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(journal),
        StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) f.line(line);
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot read the journal " + journal + ": " + e.getMessage(), e);
    }
    return f.report(summary, rehearsal(journal.resolveSibling(REHEARSAL_FILE)));
  }

  private static JsonNode rehearsal(Path file) {
    if (!Files.isRegularFile(file)) return null;
    try {
      return MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      // the page still shows the run; the section says what went wrong with the file
      return MAPPER.createObjectNode().put("unreadable", file + ": " + e.getMessage());
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    if (array != null && array.isArray()) array.forEach(v -> out.add(v.asText()));
    return out;
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
    JsonNode result;
    int nextId;

    void line(String line) {
      if (line.isBlank()) return;
      JsonNode e = parse(line);
      if (e == null) return;
      Instant at;
      try {
        at = e.hasNonNull("at") ? Instant.parse(e.get("at").asText()) : null;
      } catch (RuntimeException bad) {
        at = null;
      }
      if (at == null) at = last != null ? last : Instant.EPOCH;
      if (t0 == null) t0 = at;
      if (last == null || at.isAfter(last)) last = at;
      long ms = offset(at);
      times.add(ms);
      switch (String.valueOf(text(e, "event"))) {
        case "run_started" -> {
          t0 = at;
          strings(e.get("hosts")).forEach(this::lane);
        }
        case "run_resumed" -> markers.add(new Marker(ms, null, String.valueOf(text(e, "action")),
            by(text(e, "user"), text(e, "controller"))));
        case "host_started" -> {
          Lane l = lane(text(e, "host"));
          if (text(e, "mode") != null) l.mode = text(e, "mode");
          if (l.start == null) l.start = ms;
        }
        case "step_started" -> lane(text(e, "host")).stepStarted(e, ms, nextId++);
        case "step_finished" -> lane(text(e, "host")).stepFinished(e, ms, nextId++);
        case "rollback_started" -> lane(text(e, "host")).rollbacks.add(new Rollback(ms, null,
            text(e, "failedStep"), text(e, "reason"), strings(e.get("stack")), null, null, null));
        case "rollback_finished" -> lane(text(e, "host")).rollbackFinished(e, ms);
        case "lock_changed" -> {
          Lane l = lane(text(e, "host"));
          String from = text(e, "from");
          l.events.add(new Marker(ms, l.name, "lock", text(e, "action") + (from == null ? "" : " from " + from)));
        }
        case "host_finished" -> {
          Lane l = lane(text(e.path("result"), "host"));
          if (e.path("result").hasNonNull("mode")) l.mode = text(e.path("result"), "mode");
          l.end = ms;
        }
        case "batch_started" -> batches.add(new Batch(e.path("batch").asInt(), e.path("batches").asInt(
            e.path("of").asInt()), strings(e.get("hosts")), ms, null, null, null, null));
        case "batch_finished" -> batchFinished(e, ms);
        case "run_finished" -> {
          ended = at;
          result = e.get("result");
        }
        default -> { } // an event this version does not draw
      }
      String host = e.hasNonNull("host") ? text(e, "host") : text(e.path("result"), "host");
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

    void batchFinished(JsonNode e, long ms) {
      int n = e.path("batch").asInt();
      for (int i = batches.size() - 1; i >= 0; i--) {
        Batch b = batches.get(i);
        if (b.number() == n && b.endMillis() == null) {
          batches.set(i, new Batch(n, b.of(), b.hosts(), b.startMillis(), ms, strings(e.get("failed")),
              text(e, "decision"), text(e, "reason")));
          return;
        }
      }
    }

    RunReport report(RunSummary summary, JsonNode rehearsal) {
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
        hosts.add(new Host(l.name, mode, recap, batchOf.get(l.name), l.start, l.end, l.steps(span), l.rollbacks,
            l.events));
      }
      return new RunReport(summary, t0, ended, span, exitCode(), hosts, batches, markers, idle(hosts, span),
          rehearsal);
    }

    /** Silences between two events that no step spans, long enough to squeeze the rest of the run. */
    private List<Idle> idle(List<Host> hosts, long span) {
      List<Long> sorted = times.stream().sorted().toList();
      List<Idle> out = new ArrayList<>();
      for (int i = 1; i < sorted.size(); i++) {
        long from = sorted.get(i - 1), to = sorted.get(i);
        if (to - from < IDLE_MIN_MILLIS || to - from < span * IDLE_MIN_SHARE) continue;
        boolean busy = hosts.stream().flatMap(h -> h.steps().stream())
            .anyMatch(s -> s.startMillis() <= from && s.endMillis() >= to);
        if (!busy) out.add(new Idle(from, to));
      }
      return out;
    }

    private Integer exitCode() {
      if (result == null) return null;
      try {
        return EventJson.mapper().treeToValue(result, RunResult.class).exitCode();
      } catch (IOException | RuntimeException e) {
        return null; // a result this version cannot read: the page says so
      }
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

    void stepStarted(JsonNode e, long ms, int id) {
      if (start == null) start = ms;
      if (open >= 0) {
        // the controller stopped during that step, and a resumed run went on: it ran until the host's last event
        Step s = steps.get(open);
        steps.set(open, new Step(s.id(), s.phase(), s.index(), s.name(), s.type(), s.kind(), s.forStep(), null,
            s.startMillis(), Math.max(s.startMillis(), last), 0, 0, null, null, null, null));
      }
      steps.add(step(e, id, null, ms, ms, null));
      open = steps.size() - 1;
    }

    void stepFinished(JsonNode e, long ms, int id) {
      JsonNode r = e.path("result");
      Status status;
      try {
        status = Status.valueOf(String.valueOf(text(r, "status")));
      } catch (IllegalArgumentException unknown) {
        status = Status.FAILED;
      }
      long duration = r.path("durationMillis").asLong();
      Step s = open >= 0 ? steps.get(open) : null;
      boolean same = s != null && s.name().equals(String.valueOf(text(e, "name")))
          && s.kind() == kind(e);
      if (same) {
        steps.set(open, step(e, s.id(), status, s.startMillis(), Math.max(ms, s.startMillis()), r));
      } else {
        // a finish without its start (a journal written by an engine that did not emit it)
        steps.add(step(e, id, status, Math.max(0, ms - duration), ms, r));
      }
      open = -1;
    }

    private static Kind kind(JsonNode e) {
      if (e.path("rollback").asBoolean(false)) return Kind.ROLLBACK;
      return "gate".equals(text(e, "phase")) ? Kind.GATE : Kind.STEP;
    }

    private static Step step(JsonNode e, int id, Status status, long start, long end, JsonNode r) {
      Integer rc = r != null && r.hasNonNull("rc") ? r.get("rc").asInt() : null;
      return new Step(id, text(e, "phase"), e.path("index").asInt(), String.valueOf(text(e, "name")),
          text(e, "type"), kind(e), text(e, "forStep"), status, start, end,
          r == null ? 0 : r.path("durationMillis").asLong(), r == null ? 0 : r.path("attempts").asInt(1), rc,
          text(r, "message"), text(r, "stdout"), text(r, "stderr"));
    }

    void rollbackFinished(JsonNode e, long ms) {
      if (rollbacks.isEmpty()) rollbacks.add(new Rollback(ms, null, null, null, List.of(), null, null, null));
      Rollback r = rollbacks.get(rollbacks.size() - 1);
      rollbacks.set(rollbacks.size() - 1, new Rollback(r.startMillis(), ms, r.failedStep(), r.reason(), r.stack(),
          e.path("succeeded").asBoolean(true), text(e, "message"), strings(e.get("notUndone"))));
    }

    /** The steps, a step still in flight running to the journal's end. */
    List<Step> steps(long span) {
      if (open < 0) return steps;
      List<Step> out = new ArrayList<>(steps);
      Step s = out.get(open);
      out.set(open, new Step(s.id(), s.phase(), s.index(), s.name(), s.type(), s.kind(), s.forStep(), null,
          s.startMillis(), Math.max(span, s.startMillis()), Math.max(0, span - s.startMillis()), 0, null, null,
          null, null));
      return out;
    }
  }
}
