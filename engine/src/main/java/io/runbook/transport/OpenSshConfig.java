package io.runbook.transport;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * ssh_config as the controller's own OpenSSH client resolves it: {@code ssh -G [-F FILE] [ARGS]
 * HOST} prints every option as it applies to HOST (Host and Match blocks, wildcards, negation,
 * first value wins, Include, and the command-line {@code -o}, {@code -J}, {@code -p}, {@code -l}
 * before all of them). Asking ssh itself means no second parser to drift from OpenSSH's.
 */
public final class OpenSshConfig {
  /**
   * Where the options come from: the user's files, one file, or none (ssh's defaults and the
   * arguments).
   */
  public record Source(Path file, boolean none) {
    public static final Source DEFAULT = new Source(null, false);
    public static final Source NONE = new Source(null, true);

    /** {@code -F FILE}, {@code -F /dev/null} for none, nothing for ssh's own files. */
    List<String> args() {
      if (none) return List.of("-F", "/dev/null");
      return file == null ? List.of() : List.of("-F", file.toString());
    }

    /** The file that would be read, for messages. */
    public String describe() {
      if (none) return "no ssh_config (--ssh-config none)";
      return file == null
          ? SshSettings.sshDir().resolve("config") + " and /etc/ssh/ssh_config"
          : file.toString();
    }
  }

  /** The resolved options: lower-case keywords, each with every value ssh printed for it. */
  public record Options(Map<String, List<String>> values) {
    public String get(String keyword) {
      List<String> v = values.get(keyword);
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    public List<String> all(String keyword) {
      return values.getOrDefault(keyword, List.of());
    }
  }

  /** ssh -G failed: bad option in the arguments or the config file; the message is ssh's own. */
  public static final class ConfigException extends Exception {
    public ConfigException(String message) {
      super(message);
    }
  }

  private final String ssh;
  private final Source source;

  public OpenSshConfig(String ssh, Source source) {
    this.ssh = ssh;
    this.source = source;
  }

  public OpenSshConfig(Source source) {
    this("ssh", source);
  }

  public Source source() {
    return source;
  }

  /** Whether the OpenSSH client can be run here. */
  public boolean available() {
    try {
      Process p =
          new ProcessBuilder(ssh, "-V")
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Whether the source names a config file that exists (the default one only if the user has it).
   */
  public boolean hasConfigFile() {
    if (source.none()) return false;
    return source.file() != null
        ? Files.exists(source.file())
        : Files.exists(SshSettings.sshDir().resolve("config"));
  }

  /** {@code ssh -G [-F FILE] ARGS HOST}. */
  public Options resolve(String host, List<String> args) throws ConfigException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ssh);
    cmd.add("-G");
    cmd.addAll(source.args());
    cmd.addAll(args);
    // "--": a host named like an option must not be taken for one.
    cmd.add("--");
    cmd.add(host);
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      byte[] out = p.getInputStream().readAllBytes();
      byte[] err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new ConfigException("ssh -G did not finish within 30 s");
      }
      if (p.exitValue() != 0) {
        String why =
            new String(err, StandardCharsets.UTF_8)
                .lines()
                .filter(l -> !l.startsWith("Pseudo-terminal will not be allocated"))
                .reduce((a, b) -> a + "; " + b)
                .orElse("exit code " + p.exitValue());
        throw new ConfigException(why);
      }
      return parse(new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException(
          "cannot run " + ssh + " -G: " + e.getMessage() + " (install openssh-client)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConfigException("interrupted");
    }
  }

  static Options parse(String output) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    for (String line : output.lines().toList()) {
      String l = line.strip();
      if (l.isEmpty()) continue;
      int sp = l.indexOf(' ');
      String key = (sp < 0 ? l : l.substring(0, sp)).toLowerCase(Locale.ROOT);
      String value = sp < 0 ? "" : l.substring(sp + 1).strip();
      values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    values.replaceAll((k, v) -> List.copyOf(v));
    return new Options(values);
  }
}
