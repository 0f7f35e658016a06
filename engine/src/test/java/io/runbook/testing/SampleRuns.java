package io.runbook.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/** The sample service on a {@link Fleet}: inventories, CLI runs, and what to check on the hosts. */
public final class SampleRuns {
  public static final Path REPO =
      Path.of(System.getProperty("runbook.repo", "..")).toAbsolutePath().normalize();
  static final ObjectMapper JSON = new ObjectMapper();

  private final Fleet fleet;
  private final Path dir;

  public SampleRuns(Fleet fleet, Path dir) {
    this.fleet = fleet;
    this.dir = dir;
  }

  /**
   * An inventory of the whole fleet in group 'sample', the service under {@code appDir} on {@code
   * port}.
   */
  public Path inventory(String appDir, int port, Function<SshHost, String> extraHostYaml) {
    StringBuilder y =
        new StringBuilder(
            """
        all:
          children:
            sample:
              vars:
                mode: binary
                app_dir: %s
                port: %d
                session_secret: fleet-session-secret-0123456789
                sudo_mode_secret: fleet-sudo-secret-0123456789
                connection_initiation_secret: fleet-connection-secret-0123456789
              hosts:
        """
                .formatted(appDir, port));
    for (SshHost h : fleet.hosts()) {
      y.append("        ")
          .append(h.name())
          .append(":\n")
          .append("          ansible_host: ")
          .append(h.host())
          .append('\n')
          .append("          ansible_port: ")
          .append(h.port())
          .append('\n')
          .append("          ansible_user: ")
          .append(h.user())
          .append('\n')
          .append("          ansible_ssh_private_key_file: ")
          .append(h.privateKey())
          .append('\n')
          .append(extraHostYaml.apply(h));
    }
    Path file = dir.resolve("fleet-" + port + ".yaml");
    write(file, y.toString());
    return file;
  }

  /**
   * {@code runbook ARGS... --yes --known-hosts <fleet> --state-dir <dir>/state}; runbook names
   * resolve in runbooks/.
   */
  public Run cli(String command, String runbook, String... more) {
    return Cli.run(args(command, runbook, more));
  }

  /**
   * The arguments {@link #cli} runs, for a controller started as its own process ({@link
   * Cli#child}); a runbook given as an absolute path is taken as it is.
   */
  public List<String> args(String command, String runbook, String... more) {
    List<String> args = new ArrayList<>(List.of(command));
    if (runbook != null) args.add(REPO.resolve("runbooks").resolve(runbook).toString());
    args.addAll(List.of(more));
    args.addAll(List.of("--state-dir", stateDir().toString()));
    if (List.of("apply", "resume", "rollback").contains(command)) {
      args.add("--yes");
      if (!args.contains("--known-hosts"))
        args.addAll(List.of("--known-hosts", fleet.knownHostsFile().toString()));
    }
    return args;
  }

  public Run apply(String runbook, Path inventory, String... more) {
    List<String> args = new ArrayList<>(List.of("-i", inventory.toString()));
    args.addAll(List.of(more));
    return cli("apply", runbook, args.toArray(String[]::new));
  }

  public Path stateDir() {
    return dir.resolve("state");
  }

  /** The version /_health reports on the host, or "down". */
  public static String health(SshHost h, int port) {
    String out = h.exec("sh", "-c", "curl -sf http://127.0.0.1:" + port + "/_health || echo down");
    if (out.strip().equals("down")) return "down";
    try {
      return JSON.readTree(out).path("version").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Files of releases/ and config/ with checksums, the database checksum and the 'current' link.
   */
  public static String snapshot(SshHost h, String app) {
    return h.exec(
        "sh",
        "-c",
        "cd "
            + app
            + " && find releases config | sort && find releases config -type f -exec sha256sum {} + | sort"
            + " && sha256sum data/sample.db && readlink current && stat -c '%a %U' config/config.json data/sample.db");
  }

  /**
   * Removes every host lock, so that a test that failed half-way does not lock out the next one.
   */
  public void clearLocks() {
    for (SshHost h : fleet.hosts()) h.exec("sh", "-c", "rm -rf /var/tmp/runbook.lock*");
  }

  public void stopService(String app) {
    for (SshHost h : fleet.hosts()) {
      h.exec(
          "sh",
          "-c",
          "[ ! -x " + app + "/current/sampledctl ] || " + app + "/current/sampledctl stop " + app);
    }
  }

  /** The events of the newest journal of {@code runbook} (by file name). */
  public List<JsonNode> journal(String runbook) {
    List<JsonNode> newest = null;
    try (Stream<Path> runs = Files.list(stateDir().resolve("runs"))) {
      for (Path d : runs.sorted().toList()) {
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(d.resolve("journal.jsonl")))
          events.add(JSON.readTree(line));
        if (events.get(0).path("runbook").asText().endsWith(runbook)) newest = events;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (newest == null) throw new AssertionError("no journal of " + runbook);
    return newest;
  }

  static void write(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
