package io.runbook.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample upgrade on this machine through {@code ansible_connection: local}: real python3,
 * sqlite3, curl and files. The same runbooks run over SSH in {@code FleetUpgradeIT}.
 */
class LocalUpgradeTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  Path appDir;
  Path inventory;
  int port;

  @BeforeEach
  void inventory() throws IOException {
    appDir = tmp.resolve("sample");
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    inventory = tmp.resolve("local.yaml");
    Files.writeString(
        inventory,
        """
        all:
          children:
            sample:
              hosts:
                here: {ansible_connection: local}
              vars:
                mode: binary
                app_dir: %s
                port: %d
                runbook_lock_path: %s/lock
                session_secret: test-session-secret-0123456789
                sudo_mode_secret: test-sudo-secret-0123456789
                connection_initiation_secret: test-connection-secret-0123456789
        """
            .formatted(appDir, port, tmp));
  }

  @AfterEach
  void stop() throws Exception {
    new ProcessBuilder(
            "bash",
            "-c",
            "[ ! -x '"
                + appDir
                + "/current/sampledctl' ] || '"
                + appDir
                + "/current/sampledctl' stop '"
                + appDir
                + "'")
        .inheritIO()
        .start()
        .waitFor();
  }

  Run apply(String runbook, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "apply",
                REPO.resolve("runbooks").resolve(runbook).toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--state-dir",
                tmp.resolve("state").toString()));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  @Test
  void upgradesTheSampleTo200() throws Exception {
    Run install = apply("install-sample.yaml");
    assertThat(install.code()).as(install.out() + install.err()).isZero();
    assertThat(health().path("version").asText()).isEqualTo("1.2.3");

    Run upgrade = apply("upgrade-v2.yaml");

    assertThat(upgrade.code()).as(upgrade.out() + upgrade.err()).isZero();
    assertThat(health().path("version").asText()).isEqualTo("2.0.0");
    assertThat(Files.readSymbolicLink(appDir.resolve("current")).toString())
        .isEqualTo("releases/2.0.0");
    assertThat(sqlite("SELECT group_concat(version, ',') FROM migrations"))
        .isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    assertThat(upgrade.out()).contains("RECAP").containsPattern("here\\s+binary\\s+ok");
    List<JsonNode> journal = journal();
    assertThat(journal.get(0).path("event").asText()).isEqualTo("run_started");
    assertThat(
            journal
                .get(journal.size() - 1)
                .path("result")
                .path("hosts")
                .get(0)
                .path("outcome")
                .asText())
        .isEqualTo("SUCCEEDED");
  }

  @Test
  void aFailedMigrationRollsTheHostBackByteForByte() throws Exception {
    assertThat(apply("install-sample.yaml").code()).isZero();
    // The seed's partly applied migration: thread_id exists already, so 003_threads.sql fails.
    sqlite("ALTER TABLE messages ADD COLUMN thread_id INTEGER");
    Map<String, String> before = snapshot();

    Run upgrade = apply("upgrade-v2.yaml");

    assertThat(upgrade.code()).as(upgrade.out() + upgrade.err()).isEqualTo(2);
    assertThat(upgrade.out())
        .containsPattern("here\\s+binary\\s+rolled back")
        .contains("duplicate column name: thread_id");
    assertThat(snapshot()).isEqualTo(before);
    assertThat(health().path("version").asText()).isEqualTo("1.2.3");

    Path backup;
    try (Stream<Path> runs = Files.list(appDir.resolve("backups"))) {
      backup = runs.findFirst().orElseThrow();
    }
    List<String> undone = new ArrayList<>();
    for (JsonNode e : journal()) {
      if (e.path("event").asText().equals("step_finished") && e.path("rollback").asBoolean()) {
        undone.add(e.path("name").asText());
      }
    }
    assertThat(undone)
        .containsExactly(
            "delete " + appDir + "/releases/2.0.0/config.schema.json",
            "delete " + appDir + "/releases/2.0.0/sampledctl",
            "delete " + appDir + "/releases/2.0.0/sampled.py",
            "Remove the new release",
            "restore "
                + appDir
                + "/data/sample.db, "
                + appDir
                + "/config/config.json from "
                + backup
                + "/sample.tar.gz",
            "Start the previous release again",
            "delete " + appDir + "/config/config.json.next",
            "The previous release answers /_health again");
  }

  /**
   * What must be identical after a rollback: every file of releases/ and config/, the DB, the link.
   */
  Map<String, String> snapshot() throws Exception {
    Map<String, String> files = new TreeMap<>();
    for (String dir : List.of("releases", "config")) {
      try (Stream<Path> s = Files.walk(appDir.resolve(dir))) {
        for (Path p : s.toList()) {
          files.put(appDir.relativize(p).toString(), Files.isDirectory(p) ? "dir" : sha256(p));
        }
      }
    }
    files.put("data/sample.db", sha256(appDir.resolve("data/sample.db")));
    files.put("current", Files.readSymbolicLink(appDir.resolve("current")).toString());
    return files;
  }

  static String sha256(Path p) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  String sqlite(String sql) throws Exception {
    Process p =
        new ProcessBuilder("sqlite3", appDir.resolve("data/sample.db").toString(), sql).start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8).strip();
    assertThat(p.waitFor()).as(new String(p.getErrorStream().readAllBytes(), UTF_8)).isZero();
    return out;
  }

  JsonNode health() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/_health")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** The events of the upgrade run's journal. */
  List<JsonNode> journal() throws IOException {
    try (Stream<Path> runs = Files.list(tmp.resolve("state/runs"))) {
      for (Path dir : runs.toList()) {
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("journal.jsonl")))
          events.add(JSON.readTree(line));
        if (events.get(0).path("runbook").asText().endsWith("upgrade-v2.yaml")) return events;
      }
    }
    throw new AssertionError("no journal of upgrade-v2.yaml");
  }
}
