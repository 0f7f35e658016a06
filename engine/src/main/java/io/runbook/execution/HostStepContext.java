package io.runbook.execution;

import io.runbook.docker.DockerEngine;
import io.runbook.step.StepContext;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

/** The {@link StepContext} of one step on one host. */
record HostStepContext(
    String hostName,
    Transport transport,
    Duration timeout,
    Become become,
    Path baseDir,
    Map<String, Object> vars,
    HostDocker hostDocker,
    Consumer<Map<String, Object>> checkpoints)
    implements StepContext {

  @Override
  public void checkpoint(Map<String, Object> undoState) {
    checkpoints.accept(undoState);
  }

  @Override
  public DockerEngine docker() {
    return hostDocker.get(hostName, vars);
  }

  @Override
  public String render(String templateText, String templateName) {
    return Templates.render(templateText, templateName, vars);
  }

  @Override
  public boolean evaluate(String expression) {
    return Templates.evaluate(expression, expression, vars);
  }
}
