package io.runbook.execution;

import io.runbook.lock.HostLock;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import java.net.URI;

/**
 * A host's transport whose commands carry the run's id in their command line ({@code :
 * runbook-run=ID;}, inside any {@code sudo}), so that a later controller can find the commands of a
 * run whose controller died while they ran (see {@link Orphans}).
 */
final class RunTaggedTransport implements Transport {
  private final Transport inner;
  private final String tag;
  private volatile String guard = "";

  RunTaggedTransport(Transport inner, String runId) {
    this.inner = inner;
    this.tag = Orphans.tag(runId);
  }

  /** The transport without the tag: for looking for tagged commands without finding oneself. */
  Transport untagged() {
    return inner;
  }

  /** From now on, every command runs only while the host lock is still this controller's. */
  void guardWith(HostLock lock) {
    this.guard = lock.guard();
  }

  /**
   * @throws TransportException when the command did not run because the host lock is no longer this
   *     controller's (another controller broke it or took it over): the step's effect is then nil,
   *     and the host must not be touched further by this run
   */
  @Override
  public ExecResult exec(ExecRequest r) {
    ExecResult result =
        inner.exec(
            new ExecRequest(
                ": " + tag + " " + guard + r.command(),
                r.stdin(),
                r.timeout(),
                r.become(),
                r.env(),
                r.chdir(),
                r.maxOutput()));
    if (!guard.isEmpty()
        && result.exitCode() == HostLock.LOST_EXIT
        && result.stderrText().contains(HostLock.LOST_MARK)) {
      throw new TransportException(
          inner.describe(),
          "the host lock is no longer this run's (broken or taken over by "
              + "another controller): nothing more is run on this host");
    }
    return result;
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
