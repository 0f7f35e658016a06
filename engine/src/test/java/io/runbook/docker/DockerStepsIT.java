package io.runbook.docker;

import static io.runbook.testing.DockerHost.docker;
import static io.runbook.testing.DockerHost.dockerResult;
import static io.runbook.testing.DockerHost.volumeChecksums;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.DockerHost;
import io.runbook.testing.Ports;
import io.runbook.testing.SampleRuns;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Docker step types against this machine's real Docker daemon, reached by runbook over a real
 * SSH connection (the daemon socket forwarded with direct-streamlocal) to a {@link DockerHost}, and
 * images pulled from a real registry on 127.0.0.1:5000 (scripts/docker-test-env.sh fills it and
 * removes the local copies). Every container, volume and image name a test makes is removed after
 * it.
 */
class DockerStepsIT {
  static final String REG = DockerHost.REGISTRY;
  static final String V1 = REG + "/sampled:1.2.3";
  static final String V13 = REG + "/sampled:1.3.0";
  static DockerHost host;

  @TempDir Path tmp;
  final List<String> containers = new ArrayList<>();
  final List<String> volumes = new ArrayList<>();
  final List<String> images = new ArrayList<>();

  @BeforeAll
  static void startHost() {
    host = DockerHost.start(true);
  }

  @AfterAll
  static void stopHost() {
    if (host != null) host.close();
  }

  @AfterEach
  void cleanUp() {
    for (String c : containers) {
      dockerResult("rm", "-f", c);
      dockerResult("rm", "-f", c + ".runbook-prev");
    }
    for (String v : volumes) dockerResult("volume", "rm", "-f", v);
    for (String i : images) dockerResult("rmi", "-f", i);
  }

  @Test
  void pullsFromTheRegistryThroughTheForwardedSocketThenTagsAndRemoves() throws Exception {
    String tag = "runbook-it/pulled:" + System.nanoTime();
    images.addAll(List.of(V1, tag));
    dockerResult("rmi", "-f", V1);
    assertThat(dockerResult("image", "inspect", V1).code())
        .as("absent before the pull")
        .isNotZero();

    Run r =
        apply(
            sshInventory(),
            """
        - name: Pull with the registry's credentials
          docker_image: {action: pull, image: "%s", auth: {username: "[=reg_user]", password: "[=reg_password]"}}
          register: pulled
        - name: Tag it
          docker_image: {action: tag, image: "%s", target: "%s"}
        - name: The pull's registered values
          assert: {that: 'pulled.digest?starts_with("sha256:") && pulled.image_id?starts_with("sha256:")'}
        - name: Remove the tag
          docker_image: {action: remove, image: "%s"}
        - name: Prune dangling images
          docker_image: {action: prune}
        """
                .formatted(V1, V1, tag, tag));

    assertThat(r.code()).as(r.all()).isZero();
    String id = docker("image", "inspect", "-f", "{{.Id}}", V1).strip();
    String repoDigest = docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", V1).strip();
    assertThat(repoDigest).isEqualTo(REG + "/sampled@" + registryDigest("sampled", "1.2.3"));
    assertThat(r.journal())
        .contains("\"image_id\":\"" + id + "\"")
        .contains(registryDigest("sampled", "1.2.3"));
    assertThat(dockerResult("image", "inspect", tag).code()).as("tag removed").isNotZero();
  }

  @Test
  void aPullWithoutCredentialsFailsNamingTheHostAndImage() throws Exception {
    images.add(V13);
    dockerResult("rmi", "-f", V13);
    Run r =
        apply(
            sshInventory(),
            """
        - name: Pull without credentials
          docker_image: {action: pull, image: "%s"}
        """
                .formatted(V13));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out())
        .contains("dockerhost: cannot pull " + V13 + ":")
        .containsPattern("(?i)auth");
  }

  @Test
  void volumeBackupThenChangeThenRestoreGivesTheSameChecksums() throws Exception {
    String vol = "runbook-it-vol-" + System.nanoTime();
    volumes.add(vol);
    docker("volume", "create", vol);
    pull(V1);
    docker(
        "run",
        "--rm",
        "-v",
        vol + ":/data",
        "--entrypoint",
        "sh",
        V1,
        "-c",
        "python3 /app/sampled.py migrate --db /data/sample.db && python3 /app/sampled.py seed --db /data/sample.db"
            + " && mkdir -p /data/sub && echo keep > /data/sub/file");
    String before = volumeChecksums(vol, V1);
    assertThat(before).contains("./sample.db").contains("./sub/file");
    Path backups = host.shared().resolve("backups");

    Run backup =
        apply(
            sshInventory(),
            """
        - name: Back up the volume
          docker_volume: {action: backup, volume: "%s", dest: "%s", image: "%s"}
          register: b
        - name: Say where
          shell: echo "DIR=[=b.dir]"
        """
                .formatted(vol, backups, V1));
    assertThat(backup.code()).as(backup.all()).isZero();
    String dir = backup.journal().replaceAll("(?s).*DIR=([^\\\\\"]+).*", "$1").strip();
    assertThat(Path.of(dir, vol + ".tar.gz")).exists();
    String sums = Files.readString(Path.of(dir, "SHA256SUMS"));
    assertThat(sums).matches("[0-9a-f]{64}  " + vol + "\\.tar\\.gz\\n");

    docker(
        "run",
        "--rm",
        "-v",
        vol + ":/data",
        "--entrypoint",
        "sh",
        V1,
        "-c",
        "sqlite3 /data/sample.db 'DELETE FROM messages' && rm -rf /data/sub && echo new > /data/extra");
    assertThat(volumeChecksums(vol, V1)).isNotEqualTo(before);

    Run restore =
        apply(
            sshInventory(),
            """
        - name: Restore the volume
          docker_volume: {action: restore, volume: "%s", dir: "%s", image: "%s"}
        """
                .formatted(vol, dir, V1));
    assertThat(restore.code()).as(restore.all()).isZero();
    assertThat(volumeChecksums(vol, V1)).isEqualTo(before);

    // A corrupted archive is refused before the volume is touched.
    docker(
        "run",
        "--rm",
        "-v",
        dir + ":/b",
        "--entrypoint",
        "sh",
        V1,
        "-c",
        "echo x >> /b/" + vol + ".tar.gz");
    docker(
        "run",
        "--rm",
        "-v",
        vol + ":/data",
        "--entrypoint",
        "sh",
        V1,
        "-c",
        "echo changed > /data/extra");
    String changed = volumeChecksums(vol, V1);
    Run refused =
        apply(
            sshInventory(),
            """
        - name: Restore the volume
          docker_volume: {action: restore, volume: "%s", dir: "%s", image: "%s"}
        """
                .formatted(vol, dir, V1));
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.out())
        .contains("does not match its checksum in SHA256SUMS; nothing was changed");
    assertThat(volumeChecksums(vol, V1)).isEqualTo(changed);
  }

  @Test
  void recreateKeepsTheConfigAndAFailureLaterRollsBackImageAndVolume() throws Exception {
    String name = "runbook-it-app-" + System.nanoTime();
    String vol = name + "-data";
    containers.add(name);
    volumes.add(vol);
    images.add(V13);
    int port = Ports.free();
    pull(V1);
    dockerResult("rmi", "-f", V13);
    Path config = host.shared().resolve(name + "-config");
    Files.createDirectories(config);
    Files.writeString(config.resolve("config.json"), sampleConfig());
    docker("volume", "create", vol);
    docker(
        "run",
        "--rm",
        "-v",
        vol + ":/data",
        "--entrypoint",
        "sh",
        V1,
        "-c",
        "python3 /app/sampled.py migrate --db /data/sample.db && python3 /app/sampled.py seed --db /data/sample.db");
    docker(
        "run",
        "-d",
        "--name",
        name,
        "-e",
        "GREETING=hello world",
        "-v",
        vol + ":/data",
        "-v",
        config + ":/config:ro",
        "-p",
        "127.0.0.1:" + port + ":8080",
        "--restart",
        "unless-stopped",
        "--label",
        "team=runbook",
        V1);
    awaitHealth(port, "1.2.3");
    String v1Id = docker("image", "inspect", "-f", "{{.Id}}", V1).strip();
    String before = volumeChecksums(vol, V1);
    String shape =
        "{{json .Config.Env}} {{json .HostConfig.Binds}} {{json .HostConfig.PortBindings}} "
            + "{{json .HostConfig.RestartPolicy}} {{json .Config.Labels}} {{.HostConfig.NetworkMode}}";
    String config0 = docker("inspect", "-f", shape, name);

    // Upgrade to 1.3.0 (its migration really changes the volume), then a failing check.
    Run r =
        apply(
            sshInventory(),
            """
        - name: Back up the data volume
          docker_volume: {action: backup, volume: "%2$s", dest: "%3$s", image: "%4$s"}
        - name: Pull 1.3.0
          docker_image: {action: pull, image: "%5$s", auth: {username: "[=reg_user]", password: "[=reg_password]"}}
        - name: Stop the service
          docker_container: {action: stop, name: "%1$s"}
        - name: Migrate with the new release
          docker_container: {action: run, image: "%5$s", command: [python3, /app/sampled.py, migrate, --db, /data/sample.db], volumes: ["%2$s:/data"]}
        - name: Recreate on 1.3.0
          docker_container: {action: recreate, name: "%1$s", image: "%5$s"}
          register: recreated
        - name: Wait for 1.3.0
          http: {url: "http://127.0.0.1:%6$d/_health", json: {version: "1.3.0"}}
          retries: 20
          delay: 500ms
        - name: Record the new container's shape
          shell: "true"
        - name: A verify that fails
          shell: "echo 'verify failed on purpose' >&2; exit 1"
        """
                .formatted(name, vol, host.shared().resolve("backups"), V1, V13, port));

    assertThat(r.code()).as(r.all()).isEqualTo(2);
    assertThat(r.out()).contains("rolled back");
    // Rolled back: the 1.2.3 container again, with the same configuration, and the volume as it
    // was.
    assertThat(docker("inspect", "-f", "{{.Image}}", name).strip()).isEqualTo(v1Id);
    assertThat(docker("inspect", "-f", shape, name)).isEqualTo(config0);
    assertThat(dockerResult("inspect", name + ".runbook-prev").code()).isNotZero();
    awaitHealth(port, "1.2.3");
    docker("stop", name);
    assertThat(volumeChecksums(vol, V1)).isEqualTo(before);
    assertThat(dockerResult("image", "inspect", V13).code())
        .as("the pulled name was removed again")
        .isNotZero();
    // What the new container had while it ran: the same shape (the journal has the recreate's ids).
    assertThat(r.journal()).contains("\"previous_image_id\":\"" + v1Id + "\"");
  }

  @Test
  void recreateCopiesEnvMountsPortsRestartPolicyAndLabels() throws Exception {
    String name = "runbook-it-shape-" + System.nanoTime();
    String vol = name + "-data";
    containers.add(name);
    volumes.add(vol);
    images.add(V13);
    int port = Ports.free();
    pull(V1);
    pull(V13);
    Path config = host.shared().resolve(name + "-config");
    Files.createDirectories(config);
    Files.writeString(config.resolve("config.json"), sampleConfig());
    docker("volume", "create", vol);
    docker(
        "run",
        "--rm",
        "-v",
        vol + ":/data",
        "--entrypoint",
        "sh",
        V13,
        "-c",
        "python3 /app/sampled.py migrate --db /data/sample.db");
    docker(
        "create",
        "--name",
        name,
        "-e",
        "GREETING=hello world",
        "-v",
        vol + ":/data",
        "-v",
        config + ":/config:ro",
        "-p",
        "127.0.0.1:" + port + ":8080",
        "--restart",
        "on-failure:3",
        "--label",
        "team=runbook",
        V1);
    String shape =
        "{{json .HostConfig.Binds}} {{json .HostConfig.PortBindings}} {{json .HostConfig.RestartPolicy}} "
            + "{{.Config.Labels.team}} {{.HostConfig.NetworkMode}}";
    String before = docker("inspect", "-f", shape, name);

    Run r =
        apply(
            sshInventory(),
            """
        - name: Recreate on 1.3.0
          docker_container: {action: recreate, name: "%s", image: "%s"}
        - name: Start it
          docker_container: {action: start, name: "%s"}
        - name: Clean up the kept container
          docker_container: {action: cleanup, name: "%s"}
        """
                .formatted(name, V13, name, name));

    assertThat(r.code()).as(r.all()).isZero();
    // docker-java writes a bind's default mode out (":rw"); the daemon reads both the same
    assertThat(docker("inspect", "-f", shape, name).replace(":rw\"", "\"")).isEqualTo(before);
    String env = docker("inspect", "-f", "{{json .Config.Env}}", name);
    assertThat(env)
        .contains("GREETING=hello world")
        .contains("SAMPLED_VERSION=1.3.0")
        .doesNotContain("SAMPLED_VERSION=1.2.3");
    assertThat(docker("inspect", "-f", "{{.Config.Labels}}", name))
        .contains("io.runbook.sample.version:1.3.0");
    assertThat(docker("inspect", "-f", "{{.Image}}", name).strip())
        .isEqualTo(docker("image", "inspect", "-f", "{{.Id}}", V13).strip());
    assertThat(dockerResult("inspect", name + ".runbook-prev").code())
        .as("cleanup removed it")
        .isNotZero();
    awaitHealth(port, "1.3.0");
  }

  @Test
  void withoutTheDockerGroupTheErrorSaysWhatToDo() throws Exception {
    try (DockerHost locked = DockerHost.start(false)) {
      Path inv = tmp.resolve("locked.yaml");
      Files.writeString(
          inv,
          "all:\n  hosts:\n    lockedhost:\n"
              + locked.inventoryLines("      ")
              + "      mode: docker\n");
      Run r =
          run(
              inv,
              locked.knownHostsLine(),
              """
          - name: Prune
            docker_image: {action: prune}
          """);
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.out())
          .contains(
              "lockedhost: permission denied on /var/run/docker.sock: add runbook to the docker group"
                  + " (usermod -aG docker runbook) and reconnect");
    }
  }

  @Test
  void aLocalConnectionUsesTheLocalSocket() throws Exception {
    String tag = "runbook-it/local:" + System.nanoTime();
    images.addAll(List.of(V1, tag));
    dockerResult("rmi", "-f", V1);
    Path inv = tmp.resolve("local.yaml");
    Files.writeString(
        inv,
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      mode: docker\n"
            + "      reg_user: "
            + DockerHost.REGISTRY_USER
            + "\n      reg_password: "
            + DockerHost.REGISTRY_PASSWORD
            + "\n");
    Run r =
        run(
            inv,
            null,
            """
        - name: Pull
          docker_image: {action: pull, image: "%s", auth: {username: "[=reg_user]", password: "[=reg_password]"}}
        - name: Tag
          docker_image: {action: tag, image: "%s", target: "%s"}
        """
                .formatted(V1, V1, tag));
    assertThat(r.code()).as(r.all()).isZero();
    assertThat(docker("image", "inspect", "-f", "{{.Id}}", tag).strip())
        .isEqualTo(docker("image", "inspect", "-f", "{{.Id}}", V1).strip());
  }

  // ---- helpers

  /** A CLI run with the journal of the runs it made. */
  record Run(int code, String out, String err, String journal) {
    String all() {
      return out + err;
    }
  }

  Path sshInventory() throws IOException {
    Path inv = tmp.resolve("inventory.yaml");
    Files.writeString(
        inv,
        "all:\n  hosts:\n    dockerhost:\n"
            + host.inventoryLines("      ")
            + "      mode: docker\n"
            + "      reg_user: "
            + DockerHost.REGISTRY_USER
            + "\n      reg_password: "
            + DockerHost.REGISTRY_PASSWORD
            + "\n");
    return inv;
  }

  Run apply(Path inventory, String steps) throws IOException {
    return run(inventory, host.knownHostsLine(), steps);
  }

  /** {@code runbook apply} in-process of a runbook whose deploy phase holds {@code steps}. */
  Run run(Path inventory, String knownHostsLine, String steps) throws IOException {
    Path runbook = tmp.resolve("docker-" + System.nanoTime() + ".yaml");
    Files.writeString(
        runbook,
        "apiVersion: runbook/v1\nkind: Runbook\nname: Docker steps\nhosts: all\ntimeout: 3m\n"
            + "phases:\n  deploy:\n"
            + steps.indent(4));
    List<String> args =
        new ArrayList<>(
            List.of(
                "apply",
                runbook.toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--state-dir",
                tmp.resolve("state").toString()));
    if (knownHostsLine != null) {
      Path known = tmp.resolve("known_hosts");
      Files.writeString(known, knownHostsLine + "\n");
      args.addAll(List.of("--known-hosts", known.toString()));
    }
    Cli.Run cli = Cli.run(args);
    StringBuilder journal = new StringBuilder();
    Path runs = tmp.resolve("state/runs");
    if (Files.isDirectory(runs)) {
      try (var dirs = Files.list(runs)) {
        for (Path d : dirs.sorted().toList())
          journal.append(Files.readString(d.resolve("journal.jsonl")));
      }
      try (var dirs = Files.list(runs)) {
        for (Path d : dirs.toList()) {
          try (var files = Files.walk(d)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
      }
    }
    return new Run(cli.code(), cli.out(), cli.err(), journal.toString());
  }

  static void pull(String image) {
    docker("pull", "-q", image);
  }

  /** The digest the registry serves for a tag. */
  static String registryDigest(String repo, String tag) throws Exception {
    HttpResponse<Void> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://" + REG + "/v2/" + repo + "/manifests/" + tag))
                    .header("Accept", "application/vnd.docker.distribution.manifest.v2+json")
                    .header(
                        "Authorization",
                        "Basic "
                            + Base64.getEncoder()
                                .encodeToString(
                                    (DockerHost.REGISTRY_USER + ":" + DockerHost.REGISTRY_PASSWORD)
                                        .getBytes(StandardCharsets.UTF_8)))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.discarding());
    return r.headers().firstValue("Docker-Content-Digest").orElseThrow();
  }

  static String sampleConfig() throws IOException {
    String t =
        Files.readString(SampleRuns.REPO.resolve("samples/releases/1.2.3/config.template.json"));
    return t.replace("[=port]", "8080")
        .replace("[=app_dir]", "")
        .replace("[=session_secret]", "docker-session-secret-0123456789")
        .replace("127.0.0.1", "0.0.0.0");
  }

  static void awaitHealth(int port, String version) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String last = "";
    for (int i = 0; i < 60; i++) {
      try {
        last =
            http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/_health"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        if (last.contains("\"version\": \"" + version + "\"")) return;
      } catch (IOException notYet) {
        last = notYet.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("/_health on " + port + " never reported " + version + ": " + last);
  }
}
