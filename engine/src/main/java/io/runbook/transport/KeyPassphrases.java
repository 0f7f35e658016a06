package io.runbook.transport;

import java.nio.file.Path;

/**
 * Where the passphrase of an encrypted private key comes from: a file, the environment, or a
 * person.
 */
@FunctionalInterface
public interface KeyPassphrases {
  KeyPassphrases NONE = key -> null;

  /**
   * The passphrase of {@code key}, or null when there is none to give (the key is then not used).
   */
  Secret passphrase(Path key);
}
