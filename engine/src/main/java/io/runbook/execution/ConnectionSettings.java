package io.runbook.execution;

import io.runbook.transport.KeyPassphrases;
import io.runbook.transport.OpenSshConfig;
import io.runbook.transport.Secret;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Controller-wide SSH settings from the command line; per-host settings come from the inventory and
 * ssh_config (see {@link SshRoutes} for the order).
 *
 * @param knownHosts the known_hosts file host keys are verified against; null for ssh_config's
 *     UserKnownHostsFile
 * @param acceptNewHostKeys record unknown host keys instead of refusing them (changed keys are
 *     refused)
 * @param connectTimeout null for ssh_config's ConnectTimeout, else {@link
 *     io.runbook.transport.SshSettings#DEFAULT_CONNECT_TIMEOUT}
 * @param sshConfig which ssh_config to resolve hosts with
 * @param passphrases passphrases of encrypted key files
 * @param password login password for hosts without {@code ansible_password} ({@code --ask-pass}),
 *     or null
 * @param becomePassword sudo password for hosts without {@code ansible_become_password}, or null
 */
public record ConnectionSettings(
    Path knownHosts,
    boolean acceptNewHostKeys,
    Duration connectTimeout,
    OpenSshConfig.Source sshConfig,
    KeyPassphrases passphrases,
    Secret password,
    Secret becomePassword) {

  public ConnectionSettings {
    sshConfig = sshConfig == null ? OpenSshConfig.Source.DEFAULT : sshConfig;
    passphrases = passphrases == null ? KeyPassphrases.NONE : passphrases;
  }

  public ConnectionSettings(Path knownHosts, boolean acceptNewHostKeys, Duration connectTimeout) {
    this(knownHosts, acceptNewHostKeys, connectTimeout, null, null, null, null);
  }
}
