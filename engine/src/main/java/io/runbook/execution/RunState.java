package io.runbook.execution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.RunStarted;
import io.runbook.journal.JournalWriter;
import io.runbook.result.HostResult;
import io.runbook.step.StepResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run as its journal left it: how it was asked for, its batches, and per host the forward steps that
 * completed (with their results, private undo state included), the step in flight, and its outcome.
 * What {@code resume} continues from and {@code rollback} undoes.
 */
public record RunState(String runId, Path dir, RunStarted.Request request, List<List<String>> batches,
    Map<String, HostState> hosts, boolean finished, boolean batchesStarted) {

  private static final ObjectMapper MAPPER = io.runbook.journal.EventJson.mapper();

  /**
   * One host's progress.
   *
   * @param completed forward steps that finished (by 1-based index), in the order they ran
   * @param inFlight the index of a forward step that started and never finished, or 0
   * @param result the host's last outcome, or null while it was in progress
   */
  public record HostState(Map<Integer, StepResult> completed, int inFlight, HostResult result) {}

  public static RunState read(Path stateDir, String runId) {
    Path dir = JournalWriter.runDir(stateDir, runId);
    Path file = dir.resolve("journal.jsonl");
    if (!Files.exists(file)) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "no run " + runId + " in " + stateDir
          + " (runbook history lists the runs)");
    }
    RunStarted.Request request = null;
    List<List<String>> batches = new ArrayList<>();
    Map<String, Map<Integer, StepResult>> completed = new LinkedHashMap<>();
    Map<String, Integer> inFlight = new LinkedHashMap<>();
    Map<String, HostResult> results = new LinkedHashMap<>();
    boolean finished = false;
    boolean batchStarted = false;
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        JsonNode e;
        try {
          e = MAPPER.readTree(line);
        } catch (IOException cutShort) {
          continue; // the last line of a journal whose controller was killed mid-write
        }
        String host = e.path("host").asText();
        switch (e.path("event").asText()) {
          case "run_started" -> {
            request = MAPPER.treeToValue(e.path("request"), RunStarted.Request.class);
            for (JsonNode b : e.path("batches")) {
              List<String> names = new ArrayList<>();
              b.forEach(n -> names.add(n.asText()));
              batches.add(names);
            }
          }
          case "batch_started" -> batchStarted = true;
          case "host_started" -> {
            completed.putIfAbsent(host, new TreeMap<>());
            inFlight.put(host, 0);
          }
          case "step_started" -> {
            if (!e.path("rollback").asBoolean() && e.path("index").asInt() > 0) inFlight.put(host, e.path("index").asInt());
          }
          case "step_finished" -> {
            int index = e.path("index").asInt();
            if (e.path("rollback").asBoolean() || index == 0) break;
            inFlight.put(host, 0);
            StepResult r = MAPPER.treeToValue(e.path("result"), StepResult.class);
            if (!r.failed()) completed.computeIfAbsent(host, h -> new TreeMap<>()).put(index, r);
          }
          case "host_finished" -> results.put(host, MAPPER.treeToValue(e.path("result"), HostResult.class));
          case "run_finished" -> finished = true;
          default -> { }
        }
      }
      Path undo = dir.resolve(JournalWriter.PRIVATE_FILE);
      if (Files.exists(undo)) {
        for (String line : Files.readAllLines(undo, StandardCharsets.UTF_8)) {
          JsonNode p;
          try {
            p = MAPPER.readTree(line);
          } catch (IOException cutShort) {
            continue;
          }
          Map<Integer, StepResult> steps = completed.get(p.path("host").asText());
          StepResult r = steps == null ? null : steps.get(p.path("index").asInt());
          if (r != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> data = MAPPER.treeToValue(p.path("data"), Map.class);
            steps.put(p.path("index").asInt(), r.withData(data));
          }
        }
      }
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.INTERNAL, "cannot read the journal " + file + ": " + e.getMessage(), e);
    }
    if (request == null) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, file + " has no run_started event: it is not a run "
          + "journal this runbook can resume");
    }
    Map<String, HostState> hosts = new LinkedHashMap<>();
    for (String h : completed.keySet()) {
      hosts.put(h, new HostState(completed.get(h), inFlight.getOrDefault(h, 0), results.get(h)));
    }
    return new RunState(runId, dir, request, batches, hosts, finished, batchStarted);
  }
}
