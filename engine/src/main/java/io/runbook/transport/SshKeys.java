package io.runbook.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;

/**
 * The private keys a host is logged in with, loaded and parsed once per transport so that a missing,
 * unreadable or passphrase-protected key is reported before any connection, not as a vague auth failure.
 */
final class SshKeys {
  /** The keys OpenSSH tries when no key is given, in its order (DSA is long dead). */
  private static final List<String> DEFAULT_NAMES = List.of("id_ed25519", "id_ecdsa", "id_rsa");

  private final List<Path> files;
  private final List<KeyProvider> providers;

  private SshKeys(List<Path> files, List<KeyProvider> providers) {
    this.files = List.copyOf(files);
    this.providers = List.copyOf(providers);
  }

  List<Path> files() {
    return files;
  }

  List<KeyProvider> providers() {
    return providers;
  }

  /** @param loader any client: sshj parses key files through a client's configured key formats */
  static SshKeys load(SshSettings settings, SSHClient loader) {
    Path explicit = settings.privateKey();
    if (explicit != null) {
      return new SshKeys(List.of(explicit), List.of(loadExplicit(settings, explicit, loader)));
    }
    List<Path> files = new ArrayList<>();
    List<KeyProvider> providers = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (String name : DEFAULT_NAMES) {
      Path file = SshSettings.sshDir().resolve(name);
      if (!Files.exists(file)) continue;
      try {
        providers.add(parse(file, loader));
        files.add(file);
      } catch (IOException | RuntimeException e) {
        skipped.add(file + " (" + e.getMessage() + ")");
      }
    }
    if (providers.isEmpty()) {
      throw new TransportException(settings.describe(), "no private key to log in with: set"
          + " ansible_ssh_private_key_file for this host, or create "
          + SshSettings.sshDir().resolve("id_ed25519") + " (ssh-keygen -t ed25519)"
          + (skipped.isEmpty() ? "" : "; unusable: " + String.join(", ", skipped)));
    }
    return new SshKeys(files, providers);
  }

  private static KeyProvider loadExplicit(SshSettings settings, Path file, SSHClient loader) {
    String hint = " (ansible_ssh_private_key_file of " + settings.name() + ")";
    if (!Files.exists(file)) {
      throw new TransportException(settings.describe(), "private key " + file + " does not exist" + hint);
    }
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new TransportException(settings.describe(), "cannot read private key " + file
          + hint + ": check that it is a file and that this user may read it");
    }
    try {
      return parse(file, loader);
    } catch (IOException | RuntimeException e) {
      throw new TransportException(settings.describe(), "cannot use private key " + file + hint + ": "
          + e.getMessage() + ". runbook needs an unencrypted private key (OpenSSH, PEM or PKCS#8 format);"
          + " passphrase-protected keys are not supported", e);
    }
  }

  private static KeyProvider parse(Path file, SSHClient loader) throws IOException {
    KeyProvider provider = loader.loadKeys(file.toString());
    provider.getPrivate(); // sshj parses lazily; force it now so that a bad key fails here, clearly
    return provider;
  }
}
