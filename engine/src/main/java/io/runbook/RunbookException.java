package io.runbook;

/**
 * The one unchecked exception of the engine. Its {@link ErrorCode} owns the process exit code; the
 * CLI turns it into a message in exactly one place. Messages say what went wrong and what to do
 * next.
 */
public class RunbookException extends RuntimeException {
  private final ErrorCode code;

  public RunbookException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public RunbookException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
