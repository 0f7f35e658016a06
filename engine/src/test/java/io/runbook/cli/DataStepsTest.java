package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * backup, sqlite and version through the whole engine on this machine: a failed upgrade is rolled
 * back by the backup's own restore, and the data comes back byte for byte.
 */
class DataStepsTest {
  @TempDir Path tmp;

  @Test
  void aFailedMigrationIsRolledBackByTheBackupsRestore() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app/data"));
    Files.writeString(tmp.resolve("app/version.txt"), "sampled 1.2.3\n");
    ProcessBuilder create =
        new ProcessBuilder(
            "sqlite3",
            app.resolve("app.db").toString(),
            "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO messages(body) VALUES ('hello');");
    assertThat(create.inheritIO().start().waitFor()).isZero();
    Files.setPosixFilePermissions(
        app.resolve("app.db"), PosixFilePermissions.fromString("rw-r-----"));
    Map<String, String> before = digest(tmp.resolve("app"));

    Path inventory = tmp.resolve("inv.yaml");
    Files.writeString(
        inventory,
        "all:\n  hosts:\n    here: {ansible_connection: local, app_dir: "
            + tmp.resolve("app")
            + ", runbook_lock_path: "
            + tmp.resolve("lock")
            + "}\n"); // its own lock: other runs share this machine
    Path rb = tmp.resolve("upgrade.yaml");
    Files.writeString(
        rb,
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: upgrade
        hosts: all
        phases:
          preflight:
            - name: Installed version
              version: {command: "cat [=app_dir]/version.txt", target: 2.0.0}
              register: v
            - name: The database is sound
              sqlite: {db: "[=app_dir]/data/app.db", integrity_check: true}
          backup:
            - name: Back up data and version
              backup: {paths: ["[=app_dir]/data", "[=app_dir]/version.txt"], dest: "%s", name: app, keep: 3}
              register: saved
          migrate:
            - name: Major upgrades migrate
              when: v.bump == "major"
              sqlite: {db: "[=app_dir]/data/app.db", query: "ALTER TABLE messages ADD COLUMN thread_id INTEGER"}
            - name: The release writes its files
              shell: echo 'sampled 2.0.0' > "[=app_dir]/version.txt" && touch "[=app_dir]/data/new.wal"
            - name: The second migration fails
              sqlite: {db: "[=app_dir]/data/app.db", query: "ALTER TABLE messages ADD COLUMN thread_id INTEGER"}
        """
            .formatted(tmp.resolve("backups")));

    Run run =
        Cli.run(
            "apply",
            rb.toString(),
            "-i",
            inventory.toString(),
            "--yes",
            "--state-dir",
            tmp.resolve("state").toString());

    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(run.out())
        .contains(
            "Major upgrades migrate", "duplicate column name: thread_id", "↺ backup   restore ");
    assertThat(digest(tmp.resolve("app"))).isEqualTo(before);
    try (Stream<Path> runs = Files.list(tmp.resolve("backups"))) {
      Path dir = runs.findFirst().orElseThrow();
      assertThat(dir.resolve("app.tar.gz")).exists();
      assertThat(Files.readAllLines(dir.resolve("SHA256SUMS")))
          .hasSize(4); // archive, paths, app.db, version.txt
    }
  }

  /** Every file and directory under root: content checksum and mode. */
  static Map<String, String> digest(Path root) throws Exception {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.toList()) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        m.put(
            root.relativize(p).toString(),
            Files.isDirectory(p) ? "dir " + mode : mode + " " + sha(p));
      }
    }
    return m;
  }

  static String sha(Path p) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }
}
