package io.runbook.transport;

import java.nio.file.Path;
import java.util.List;

/**
 * How a host is logged in to, beyond the key file of the inventory: the keys ssh_config names,
 * ssh-agent, passphrases of encrypted keys, a login password and a sudo password. Secrets are
 * {@link Secret}s, so that printing settings never shows them.
 *
 * @param identityFiles IdentityFile of ssh_config, in its order (missing files are skipped, as ssh
 *     does); empty for ssh's own default keys
 * @param identitiesOnly IdentitiesOnly: of the agent's keys offer only those of the identity files
 * @param agent ssh-agent (IdentityAgent, else SSH_AUTH_SOCK), or null for none
 * @param passphrases passphrases of encrypted key files
 * @param password login password ({@code ansible_password} or {@code --ask-pass}), or null
 * @param passwordSource where the password came from, for messages ({@code ansible_password}...)
 * @param becomePassword sudo password ({@code ansible_become_password} or {@code
 *     --ask-become-pass}), or null
 * @param publicKey PubkeyAuthentication
 * @param passwordAuth PasswordAuthentication
 */
public record SshAuth(
    List<Path> identityFiles,
    boolean identitiesOnly,
    SshAgent agent,
    KeyPassphrases passphrases,
    Secret password,
    String passwordSource,
    Secret becomePassword,
    boolean publicKey,
    boolean passwordAuth) {

  /** Default keys only, no agent, no password: how runbook logged in before it read ssh_config. */
  public static final SshAuth KEYS_ONLY =
      new SshAuth(List.of(), false, null, KeyPassphrases.NONE, null, null, null, true, true);

  public SshAuth {
    identityFiles = List.copyOf(identityFiles);
    passphrases = passphrases == null ? KeyPassphrases.NONE : passphrases;
  }

  public SshAuth withBecomePassword(Secret become) {
    return new SshAuth(
        identityFiles,
        identitiesOnly,
        agent,
        passphrases,
        password,
        passwordSource,
        become,
        publicKey,
        passwordAuth);
  }
}
