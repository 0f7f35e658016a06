package io.runbook.step;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/**
 * A transport that runs nothing: it records every request and answers from a queue of canned
 * results, then from a fallback function (exit 0, no output, unless told otherwise).
 * upload/download are the interface's defaults, so they show up here as the commands they send.
 */
final class RecordingTransport implements Transport {
  final List<ExecRequest> requests = new ArrayList<>();
  private final Deque<ExecResult> queue = new ArrayDeque<>();
  private Function<ExecRequest, ExecResult> fallback = r -> ok("");

  RecordingTransport answer(ExecResult... results) {
    queue.addAll(List.of(results));
    return this;
  }

  RecordingTransport otherwise(Function<ExecRequest, ExecResult> f) {
    fallback = f;
    return this;
  }

  List<String> commands() {
    return requests.stream().map(ExecRequest::command).toList();
  }

  ExecRequest last() {
    return requests.get(requests.size() - 1);
  }

  static ExecResult ok(String stdout) {
    return result(0, stdout, "");
  }

  static ExecResult result(int code, String stdout, String stderr) {
    byte[] out = stdout.getBytes(StandardCharsets.UTF_8);
    byte[] err = stderr.getBytes(StandardCharsets.UTF_8);
    return new ExecResult(code, out, err, out.length, err.length, Duration.ofMillis(5), false);
  }

  static ExecResult timedOut() {
    return new ExecResult(-1, new byte[0], new byte[0], 0, 0, Duration.ofSeconds(3), true);
  }

  @Override
  public ExecResult exec(ExecRequest request) {
    requests.add(request);
    return queue.isEmpty() ? fallback.apply(request) : queue.poll();
  }

  @Override
  public String describe() {
    return "test (recording)";
  }

  @Override
  public void close() {}
}
