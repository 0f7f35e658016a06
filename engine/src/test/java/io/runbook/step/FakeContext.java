package io.runbook.step;

import io.runbook.docker.DockerEngine;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** A step context over any transport, with a plain variable map and the real template engine. */
final class FakeContext implements StepContext {
  final Map<String, Object> vars = new HashMap<>();
  private final Transport transport;
  private final Path baseDir;
  Duration timeout = Duration.ofSeconds(30);
  Become become = Become.NONE;
  DockerEngine docker;

  /**
   * The undo state the step journaled before changing the host, with what the host held at that
   * moment.
   */
  final List<Map<String, Object>> checkpoints = new ArrayList<>();

  Supplier<String> atCheckpoint = () -> null;
  final List<String> seenAtCheckpoint = new ArrayList<>();

  FakeContext(Transport transport, Path baseDir) {
    this.transport = transport;
    this.baseDir = baseDir;
  }

  FakeContext with(String name, Object value) {
    vars.put(name, value);
    return this;
  }

  @Override
  public String hostName() {
    return "test";
  }

  @Override
  public Transport transport() {
    return transport;
  }

  @Override
  public Duration timeout() {
    return timeout;
  }

  @Override
  public Become become() {
    return become;
  }

  @Override
  public Path baseDir() {
    return baseDir;
  }

  @Override
  public Map<String, Object> vars() {
    return vars;
  }

  @Override
  public void checkpoint(Map<String, Object> undoState) {
    checkpoints.add(new HashMap<>(undoState));
    seenAtCheckpoint.add(atCheckpoint.get());
  }

  @Override
  public DockerEngine docker() {
    return docker != null ? docker : StepContext.super.docker();
  }

  @Override
  public String render(String templateText, String templateName) {
    return Templates.render(templateText, templateName, vars);
  }

  @Override
  public boolean evaluate(String expression) {
    return Templates.evaluate(expression, "condition", vars);
  }
}
