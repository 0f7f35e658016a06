package io.runbook.docker;

import static io.runbook.testing.DockerHost.docker;
import static io.runbook.testing.DockerHost.dockerResult;
import static io.runbook.testing.DockerHost.volumeChecksums;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.DockerHost;
import io.runbook.testing.Ports;
import io.runbook.testing.SampleRuns;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbooks/upgrade-v2.yaml} in mode {@code compose}, as a user runs it: the sample service
 * installed by {@code runbooks/install-sample-compose.yaml} on a {@link DockerHost} (the host's own
 * docker-compose, Docker reached over SSH, images from the loopback registry), then upgraded to
 * 2.0.0 — once with a verify that fails (rolled back: the previous image, config and volume
 * contents, checksummed), once for real.
 */
class ComposeUpgradeIT {
  static final String V1 = DockerHost.REGISTRY + "/sampled:1.2.3";
  static final String V2 = DockerHost.REGISTRY + "/sampled:2.0.0";

  @TempDir Path tmp;
  DockerHost host;
  String project;
  int port;
  Path app;

  @BeforeEach
  void start() throws IOException {
    host = DockerHost.start(true);
    project = "rbit" + System.nanoTime();
    port = Ports.free();
    app = host.shared().resolve("app");
    // what the daemon has is shared with the other tests: start from images the registry must serve
    dockerResult("rmi", "-f", V1, V2, "sampled:rollback");
  }

  @AfterEach
  void cleanUp() {
    String ids =
        dockerResult("ps", "-aq", "--filter", "label=com.docker.compose.project=" + project)
            .out()
            .strip();
    for (String id : ids.split("\\s+", -1)) {
      if (!id.isEmpty()) dockerResult("rm", "-f", id);
    }
    dockerResult("volume", "rm", "-f", project + "_data");
    dockerResult("network", "rm", project + "_default");
    dockerResult("rmi", "-f", V1, V2, "sampled:rollback");
    if (host != null) host.close();
  }

  @Test
  void aFailedVerifyRollsBackThenTheUpgradeSucceeds() throws Exception {
    Path inv = inventory();
    Run install = apply("install-sample-compose.yaml", inv);
    assertThat(install.code()).as(install.all()).isZero();
    assertThat(health()).isEqualTo("1.2.3");
    String v1Id = docker("image", "inspect", "-f", "{{.Id}}", V1).strip();
    assertThat(runningImage()).isEqualTo(v1Id);
    String volume = volumeChecksums(project + "_data", V1);
    String config = sha256(app.resolve("config/config.json"));
    String composeFile = sha256(app.resolve("compose.yaml"));

    // A verify that expects another version: everything the upgrade did is undone.
    Run failed = apply("upgrade-v2.yaml", inv, "-e", "expected_version=9.9.9");

    assertThat(failed.code()).as(failed.all()).isEqualTo(2);
    assertThat(failed.out())
        .contains("rolled back")
        .containsPattern("verify\\s+/_health reports 2.0.0\\s+FAILED")
        .contains("json field 'version' is \"2.0.0\", expected \"9.9.9\"");
    assertThat(health()).isEqualTo("1.2.3");
    assertThat(runningImage()).isEqualTo(v1Id);
    assertThat(sha256(app.resolve("config/config.json"))).isEqualTo(config);
    assertThat(sha256(app.resolve("compose.yaml"))).isEqualTo(composeFile);
    stopService();
    assertThat(volumeChecksums(project + "_data", V1))
        .as("the volume as it was before 2.0.0 migrated it")
        .isEqualTo(volume);
    startService();

    Run upgrade = apply("upgrade-v2.yaml", inv);

    assertThat(upgrade.code()).as(upgrade.all()).isZero();
    assertThat(health()).isEqualTo("2.0.0");
    assertThat(runningImage()).isEqualTo(docker("image", "inspect", "-f", "{{.Id}}", V2).strip());
    String migrations =
        docker(
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                project + "_data:/data:ro",
                "--entrypoint",
                "sqlite3",
                V2,
                "/data/sample.db",
                "SELECT group_concat(version) FROM migrations")
            .strip();
    assertThat(migrations).isEqualTo("001_init.sql,002_add_user_badges.sql,003_threads.sql");
    assertThat(Files.readString(app.resolve("compose.yaml"))).contains("image: " + V2);
    assertThat(docker("image", "inspect", "-f", "{{.Id}}", "sampled:rollback").strip())
        .isEqualTo(v1Id);
  }

  // ---- helpers

  Path inventory() throws IOException {
    Path inv = tmp.resolve("compose.yaml");
    Files.writeString(
        inv,
        """
        all:
          children:
            sample:
              vars:
                mode: compose
                app_dir: %s
                compose_project: %s
                port: %d
                registry: %s
                registry_user: %s
                registry_password: %s
                session_secret: compose-session-secret-0123456789
                sudo_mode_secret: compose-sudo-secret-0123456789
                connection_initiation_secret: compose-connection-secret-0123456789
              hosts:
                dockerhost:
        """
                .formatted(
                    app,
                    project,
                    port,
                    DockerHost.REGISTRY,
                    DockerHost.REGISTRY_USER,
                    DockerHost.REGISTRY_PASSWORD)
            + host.inventoryLines("                  "));
    return inv;
  }

  Run apply(String runbook, Path inventory, String... more) throws IOException {
    Path known = tmp.resolve("known_hosts");
    Files.writeString(known, host.knownHostsLine() + "\n");
    List<String> args =
        new ArrayList<>(
            List.of(
                "apply",
                SampleRuns.REPO.resolve("runbooks").resolve(runbook).toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--known-hosts",
                known.toString(),
                "--state-dir",
                tmp.resolve("state").toString()));
    args.addAll(List.of(more));
    return Cli.run(args);
  }

  /** The image id of the service's container. */
  String runningImage() {
    String id =
        docker(
                "ps",
                "-q",
                "--filter",
                "label=com.docker.compose.project=" + project,
                "--filter",
                "label=com.docker.compose.service=sampled")
            .strip();
    assertThat(id).as("one running sampled container").doesNotContain("\n").isNotEmpty();
    return docker("inspect", "-f", "{{.Image}}", id).strip();
  }

  void stopService() {
    docker(
        "stop",
        docker("ps", "-q", "--filter", "label=com.docker.compose.project=" + project).strip());
  }

  void startService() throws Exception {
    String id =
        docker(
                "ps",
                "-aq",
                "--filter",
                "label=com.docker.compose.project=" + project,
                "--filter",
                "label=com.docker.compose.service=sampled")
            .strip();
    docker("start", id);
    for (int i = 0; i < 40 && !health().equals("1.2.3"); i++) Thread.sleep(250);
  }

  String health() throws InterruptedException {
    try {
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/_health"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return body.replaceAll("(?s).*\"version\": \"([^\"]+)\".*", "$1");
    } catch (IOException e) {
      return "down";
    }
  }

  static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
