package io.runbook.execution;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import java.net.URI;

/**
 * A host's transport whose commands carry the run's id in their command line ({@code : runbook-run=ID;},
 * inside any {@code sudo}), so that a later controller can find the commands of a run whose controller
 * died while they ran (see {@link Orphans}).
 */
final class RunTaggedTransport implements Transport {
  private final Transport inner;
  private final String tag;

  RunTaggedTransport(Transport inner, String runId) {
    this.inner = inner;
    this.tag = Orphans.tag(runId);
  }

  /** The transport without the tag: for looking for tagged commands without finding oneself. */
  Transport untagged() {
    return inner;
  }

  @Override
  public ExecResult exec(ExecRequest r) {
    return inner.exec(new ExecRequest(": " + tag + " " + r.command(), r.stdin(), r.timeout(), r.become(), r.env(),
        r.chdir(), r.maxOutput()));
  }

  @Override
  public URI dockerHost(String socketPath) {
    return inner.dockerHost(socketPath);
  }

  @Override
  public String describe() {
    return inner.describe();
  }

  @Override
  public void close() {
    inner.close();
  }
}
