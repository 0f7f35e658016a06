package io.runbook.execution;

import io.runbook.inventory.Host;
import io.runbook.transport.Transport;

/** Opens the transport of a host. The CLI wires SSH and local transports; tests may wire others. */
@FunctionalInterface
public interface Connector {
  /**
   * Connects to the host as its inventory entry says.
   *
   * @throws io.runbook.transport.TransportException when the host cannot be reached
   */
  Transport open(Host host);
}
