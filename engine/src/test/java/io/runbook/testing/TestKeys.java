package io.runbook.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * SSH key pairs for tests, made by the real {@code ssh-keygen} so that they are exactly what users
 * have. The {@link #shared()} pair is made once per JVM and authorised on every {@link SshHost}.
 */
public record TestKeys(Path privateKey, Path publicKey) {

  private static final class Shared {
    static final TestKeys KEYS = generate(tempDir(), "id_ed25519");
  }

  public static TestKeys shared() {
    return Shared.KEYS;
  }

  /** A fresh ed25519 pair without passphrase: {@code dir/name} and {@code dir/name.pub}. */
  public static TestKeys generate(Path dir, String name) {
    Path key = dir.resolve(name);
    try {
      Process p =
          new ProcessBuilder(
                  "ssh-keygen",
                  "-q",
                  "-t",
                  "ed25519",
                  "-N",
                  "",
                  "-C",
                  "runbook-test",
                  "-f",
                  key.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            "ssh-keygen failed: " + output + " (install openssh-client: run scripts/test-env.sh)");
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot run ssh-keygen; run scripts/test-env.sh: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    Path pub = dir.resolve(name + ".pub");
    key.toFile().deleteOnExit(); // deleted before their directory: the JVM deletes in reverse order
    pub.toFile().deleteOnExit();
    return new TestKeys(key, pub);
  }

  /** The public key line, as authorized_keys wants it. */
  public String publicKeyLine() {
    try {
      return Files.readString(publicKey, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + publicKey, e);
    }
  }

  static Path tempDir() {
    try {
      Path dir = Files.createTempDirectory("runbook-test-keys");
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a temporary directory", e);
    }
  }
}
