package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.execution.ConnectionSettings;
import io.runbook.transport.KeyPassphrases;
import io.runbook.transport.OpenSshConfig;
import io.runbook.transport.Secret;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Option;

/** How SSH connections are made and verified, and the passwords they may need. */
final class ConnectionOptions {
  static final String PASSPHRASE_ENV = "RUNBOOK_KEY_PASSPHRASE";

  @Option(
      names = "--known-hosts",
      paramLabel = "FILE",
      description =
          "known_hosts file that host keys are checked against (default: ssh_config's UserKnownHostsFile, ~/.ssh/known_hosts).")
  Path knownHosts;

  @Option(
      names = "--accept-new-host-keys",
      description =
          "Trust and record the key of a host not yet in known_hosts; a changed key is still refused.")
  boolean acceptNew;

  @Option(
      names = "--connect-timeout",
      paramLabel = "SECONDS",
      description =
          "Seconds to wait for a host to answer (default: ssh_config's ConnectTimeout, else 10).")
  Integer connectTimeout;

  @Option(
      names = "--ssh-config",
      paramLabel = "FILE|none",
      description =
          "ssh_config file to resolve hosts with (default ~/.ssh/config and /etc/ssh/ssh_config); none for no file.")
  String sshConfig;

  @Option(
      names = "--key-passphrase-file",
      paramLabel = "FILE",
      description =
          "File whose first line is the passphrase of encrypted private keys (else $"
              + PASSPHRASE_ENV
              + ", else asked on the terminal).")
  Path passphraseFile;

  @Option(
      names = {"-k", "--ask-pass"},
      description = "Ask for the SSH login password (for hosts without ansible_password).")
  boolean askPass;

  @Option(
      names = {"-K", "--ask-become-pass"},
      description = "Ask for the sudo password (for hosts without ansible_become_password).")
  boolean askBecomePass;

  ConnectionSettings settings() {
    OpenSshConfig.Source source =
        sshConfig == null
            ? OpenSshConfig.Source.DEFAULT
            : sshConfig.equals("none")
                ? OpenSshConfig.Source.NONE
                : new OpenSshConfig.Source(Path.of(sshConfig), false);
    if (source.file() != null && !Files.isReadable(source.file())) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, "--ssh-config " + sshConfig + ": no such readable file");
    }
    Secret password = askPass ? ask("SSH password: ", "--ask-pass") : null;
    Secret become = askBecomePass ? ask("sudo password: ", "--ask-become-pass") : null;
    return new ConnectionSettings(
        knownHosts,
        acceptNew,
        connectTimeout == null ? null : Duration.ofSeconds(Math.max(1, connectTimeout)),
        source,
        passphrases(),
        password,
        become);
  }

  /** From the file, else the environment, else the terminal (once per key file), else none. */
  private KeyPassphrases passphrases() {
    if (passphraseFile != null) {
      Secret s;
      try {
        s =
            new Secret(
                Files.readString(passphraseFile, StandardCharsets.UTF_8)
                    .lines()
                    .findFirst()
                    .orElse(""));
      } catch (IOException e) {
        throw new RunbookException(
            ErrorCode.INVALID_INPUT,
            "--key-passphrase-file "
                + passphraseFile
                + ": cannot read it ("
                + e.getMessage()
                + ")");
      }
      return key -> s;
    }
    String env = System.getenv(PASSPHRASE_ENV);
    if (env != null) {
      Secret s = new Secret(env);
      return key -> s;
    }
    Console console = Terminal.console();
    if (console == null) return KeyPassphrases.NONE;
    Map<Path, Secret> asked = new ConcurrentHashMap<>();
    // Hosts connect in parallel: one question per key, asked once, the others wait for its answer.
    return key -> {
      synchronized (asked) {
        return asked.computeIfAbsent(
            key,
            k -> {
              char[] p = console.readPassword("Passphrase for %s: ", k);
              return p == null ? null : new Secret(new String(p));
            });
      }
    };
  }

  private static Secret ask(String prompt, String option) {
    Console console = Terminal.console();
    if (console == null) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          option
              + " needs a terminal to ask on; without one,"
              + " set the password in the inventory (ansible_password / ansible_become_password, vaulted)");
    }
    char[] p = console.readPassword("%s", prompt);
    if (p == null)
      throw new RunbookException(ErrorCode.INVALID_INPUT, option + ": no password was given");
    return new Secret(new String(p));
  }
}
