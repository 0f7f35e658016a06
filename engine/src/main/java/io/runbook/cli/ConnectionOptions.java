package io.runbook.cli;

import io.runbook.execution.ConnectionSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How SSH connections are made and verified. */
final class ConnectionOptions {
  @Option(names = "--known-hosts", paramLabel = "FILE",
      description = "known_hosts file that host keys are checked against (default ~/.ssh/known_hosts).")
  Path knownHosts;

  @Option(names = "--accept-new-host-keys",
      description = "Trust and record the key of a host not yet in known_hosts; a changed key is still refused.")
  boolean acceptNew;

  @Option(names = "--connect-timeout", defaultValue = "10", paramLabel = "SECONDS",
      description = "Seconds to wait for a host to answer (default ${DEFAULT-VALUE}).")
  int connectTimeout;

  ConnectionSettings settings() {
    Path kh = knownHosts != null ? knownHosts : Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");
    return new ConnectionSettings(kh, acceptNew, java.time.Duration.ofSeconds(Math.max(1, connectTimeout)));
  }
}
