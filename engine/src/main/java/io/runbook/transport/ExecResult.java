package io.runbook.transport;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What a command did. {@code stdout}/{@code stderr} hold at most the request's {@code maxOutput}
 * last bytes of each stream; {@code stdoutTotal}/{@code stderrTotal} count everything that was
 * written.
 */
// output bytes as read; never compared or hashed
@SuppressWarnings("ArrayRecordComponent")
public record ExecResult(
    int exitCode,
    byte[] stdout,
    byte[] stderr,
    long stdoutTotal,
    long stderrTotal,
    Duration duration,
    boolean timedOut) {

  public String stdoutText() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  public String stderrText() {
    return new String(stderr, StandardCharsets.UTF_8);
  }
}
