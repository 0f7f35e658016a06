package io.runbook.transport;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;

/** The host could not be reached, refused us, or the connection broke. Names the host. */
public class TransportException extends RunbookException {
  private final String host;

  public TransportException(String host, String message) {
    super(ErrorCode.UNREACHABLE, host + ": " + message);
    this.host = host;
  }

  public TransportException(String host, String message, Throwable cause) {
    super(ErrorCode.UNREACHABLE, host + ": " + message, cause);
    this.host = host;
  }

  public String host() {
    return host;
  }
}
