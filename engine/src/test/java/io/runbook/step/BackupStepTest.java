package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupStepTest {
  final BackupStep step = new BackupStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  FakeContext ctx(RecordingTransport t) {
    return new FakeContext(t, dir).with("run", Map.of("id", "20261121-211826-3fe7"));
  }

  @Test
  void oneCommandArchivesRelativeToRootAndReportsWhatItMade() {
    String sha = "a".repeat(64);
    host.answer(
        ok("backup " + sha + " 2048 3\npruned /srv/backups/20261001-000000-0000/app.tar.gz\n"));
    StepResult r =
        step.execute(
            Bind.args(
                step,
                "{paths: [/srv/app/data, '/srv/app/my config.json'], dest: /srv/backups, name: app, keep: 5}"),
            ctx(host));

    assertThat(host.requests).hasSize(1);
    String script = host.last().command();
    assertThat(script)
        .contains(
            "d=/srv/backups/20261121-211826-3fe7; n=app",
            "umask 077",
            "tar -czf \"$t\" --numeric-owner -C / -- srv/app/data 'srv/app/my config.json'",
            "--to-command=",
            "sha256sum < \"$t\"",
            "\"$d/SHA256SUMS\"",
            "ls -1t /srv/backups/*/\"$n.tar.gz\"",
            "tail -n +5");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo(
            "backed up /srv/app/data, /srv/app/my config.json to "
                + "/srv/backups/20261121-211826-3fe7/app.tar.gz (3 files, pruned 1 older)");
    assertThat(r.data())
        .containsEntry("archive", "/srv/backups/20261121-211826-3fe7/app.tar.gz")
        .containsEntry("dir", "/srv/backups/20261121-211826-3fe7")
        .containsEntry("sha256", sha)
        .containsEntry("files", 3)
        .containsEntry("bytes", 2048L)
        .containsEntry("pruned", List.of("/srv/backups/20261001-000000-0000/app.tar.gz"));
  }

  @Test
  void withoutKeepNothingIsPrunedAndWithoutARunIdTheTimeNamesTheDirectory() {
    host.answer(ok("backup " + "b".repeat(64) + " 10 1\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{paths: [/etc/app.conf], dest: /b}"), new FakeContext(host, dir));
    assertThat(host.last().command()).doesNotContain("ls -1t").contains("n=backup");
    assertThat((String) r.data().get("dir")).matches("/b/\\d{8}-\\d{6}");
    assertThat(r.data()).containsEntry("pruned", List.of());
  }

  @Test
  void undoIsTheRestoreOfThatArchive() throws Exception {
    var args = Bind.args(step, "{paths: [/srv/app/data], dest: /srv/backups, name: app}");
    StepResult done = StepResult.changed("backed up").withData(Map.of("dir", "/srv/backups/r1"));
    Step.Undo undo = step.undo(args, done).orElseThrow();
    assertThat(step.undoable()).isTrue();
    assertThat(undo.description())
        .isEqualTo("restore /srv/app/data from /srv/backups/r1/app.tar.gz");
    host.answer(ok("verified 4\nrestored /srv/app/data\n"));
    StepResult r = undo.run(ctx(host));
    assertThat(host.last().command())
        .contains("d=/srv/backups/r1; n=app", "sha256sum --check --strict");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(step.undo(args, StepResult.failed("no"))).isEmpty();
  }

  @Test
  void aMissingPathIsNamed() {
    host.answer(
        result(3, "", "runbook: cannot back up /srv/app/data: no such file or directory\n"));
    StepResult r = step.execute(Bind.args(step, "{paths: [/srv/app/data], dest: /b}"), ctx(host));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("cannot back up /srv/app/data: no such file or directory");
  }

  @Test
  void aToolFailureIsNamedByItsFirstLine() {
    host.answer(
        result(
            2,
            "",
            """
            tar: srv/app/data/app.db: file changed as we read it
            tar: Exiting with failure status due to previous errors
            """));
    StepResult r = step.execute(Bind.args(step, "{paths: [/srv/app/data], dest: /b}"), ctx(host));
    assertThat(r.message())
        .isEqualTo(
            "cannot back up to /b/20261121-211826-3fe7: tar: srv/app/data/app.db: file changed as we read it");
  }

  @Test
  void validationNamesEachProblem() {
    assertThat(step.validate(Bind.args(step, "{paths: [], dest: /b}")))
        .containsExactly("'paths' is empty; list the files and directories to back up");
    assertThat(
            step.validate(
                Bind.args(
                    step, "{paths: [srv/data, /a/../b, /], dest: /b/, name: 'my app', keep: 0}")))
        .containsExactly(
            "path 'srv/data' must be an absolute path such as /srv/app/data (no '..', no trailing '/', not '/')",
            "path '/a/../b' must be an absolute path such as /srv/app/data (no '..', no trailing '/', not '/')",
            "path '/' must be an absolute path such as /srv/app/data (no '..', no trailing '/', not '/')",
            "dest '/b/' must be an absolute path such as /srv/app/data (no '..', no trailing '/', not '/')",
            "name 'my app' may hold only letters, digits, '.', '_' and '-'",
            "keep must be at least 1 (the new backup), not 0");
    assertThat(
            step.validate(
                Bind.args(
                    step, "{paths: [/srv/app, /srv/app/data, /srv/app], dest: /srv/app/backups}")))
        .containsExactly(
            "dest /srv/app/backups is inside /srv/app: a restore would replace the backups",
            "/srv/app/data is inside /srv/app; list only the outer one",
            "/srv/app is listed twice");
    assertThat(step.validate(Bind.args(step, "{paths: [/srv/backups/x], dest: /srv/backups}")))
        .containsExactly("/srv/backups/x is inside dest /srv/backups");
    assertThat(
            step.validate(Bind.args(step, "{paths: [/srv/app, /srv/application], dest: /srv/b}")))
        .isEmpty();
  }

  /**
   * Everything under {@code root}: type, content checksum or link target, mode, owner and group
   * ids.
   */
  static Map<String, String> snapshot(Path root) throws Exception {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.toList()) {
        String what =
            Files.isSymbolicLink(p)
                ? "link " + Files.readSymbolicLink(p)
                : Files.isDirectory(p)
                    ? "dir " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p))
                    : "file "
                        + PosixFilePermissions.toString(Files.getPosixFilePermissions(p))
                        + " "
                        + RemoteFile.sha256(Files.readAllBytes(p));
        Object uid = Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object gid = Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        m.put(root.relativize(p).toString(), what + " " + uid + ":" + gid);
      }
    }
    return m;
  }

  @Nested
  class OnRealFiles {
    FakeContext ctx;
    Path app;
    Path backups;

    @BeforeEach
    void setUp() throws Exception {
      ctx = new FakeContext(new LocalTransport("local"), dir).with("run", Map.of("id", "run-1"));
      app = dir.resolve("srv/app");
      backups = dir.resolve("srv/backups");
      Files.createDirectories(app.resolve("data/sub dir"));
      Files.createDirectories(app.resolve("data/empty"));
      Files.createDirectories(app.resolve("config"));
      Files.write(app.resolve("data/app.db"), new byte[] {0, 1, 2, (byte) 0xff});
      Files.writeString(app.resolve("data/sub dir/notes.txt"), "keep me\n");
      Files.setPosixFilePermissions(
          app.resolve("data/sub dir/notes.txt"), PosixFilePermissions.fromString("rw-------"));
      Files.setPosixFilePermissions(
          app.resolve("data/sub dir"), PosixFilePermissions.fromString("rwx--x---"));
      Files.createSymbolicLink(app.resolve("data/current"), Path.of("app.db"));
      Files.writeString(app.resolve("config/config.json"), "{\"port\": 8080}\n");
      Files.setPosixFilePermissions(
          app.resolve("config/config.json"), PosixFilePermissions.fromString("rw-r-----"));
    }

    BackupStep.Args args(String more) {
      return Bind.args(
          step,
          "{paths: ['"
              + app.resolve("data")
              + "', '"
              + app.resolve("config/config.json")
              + "'], dest: '"
              + backups
              + "', name: app"
              + more
              + "}");
    }

    StepResult backup(String more) throws Exception {
      return step.execute(args(more), ctx);
    }

    @Test
    void archivesWithChecksumsAndTheUndoPutsBackExactlyWhatWasThere() throws Exception {
      Map<String, String> before = snapshot(app);
      StepResult r = backup("");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      Path run = backups.resolve("run-1");
      Path archive = run.resolve("app.tar.gz");
      assertThat(r.data())
          .containsEntry("archive", archive.toString())
          .containsEntry("dir", run.toString())
          .containsEntry("files", 3)
          .containsEntry("sha256", RemoteFile.sha256(Files.readAllBytes(archive)))
          .containsEntry("bytes", Files.size(archive));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive)))
          .isEqualTo("rw-------");
      String rel = app.toString().substring(1);
      assertThat(Files.readAllLines(run.resolve("SHA256SUMS")))
          .hasSize(5)
          .contains(
              r.data().get("sha256") + "  app.tar.gz",
              RemoteFile.sha256("keep me\n".getBytes(StandardCharsets.UTF_8))
                  + "  app/"
                  + rel
                  + "/data/sub dir/notes.txt")
          .anyMatch(l -> l.endsWith("  app.paths"));
      assertThat(Files.readAllLines(run.resolve("app.paths")))
          .containsExactly(
              app.resolve("data").toString(), app.resolve("config/config.json").toString());
      assertThat(
              ctx.exec("cd '" + run + "' && sha256sum --check --ignore-missing --quiet SHA256SUMS")
                  .exitCode())
          .isZero();

      // What a failed upgrade leaves: changed and new files, a lost one, other modes, a removed
      // directory.
      Files.write(app.resolve("data/app.db"), new byte[] {9, 9});
      Files.writeString(app.resolve("data/new-2.0.0.db"), "created by the run");
      Files.delete(app.resolve("data/sub dir/notes.txt"));
      Files.delete(app.resolve("data/empty"));
      Files.setPosixFilePermissions(
          app.resolve("data/sub dir"), PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.delete(app.resolve("config/config.json"));
      Files.delete(app.resolve("config"));

      StepResult undone = step.undo(args(""), r).orElseThrow().run(ctx);
      assertThat(undone.status()).as(undone.message()).isEqualTo(Status.CHANGED);
      assertThat(undone.message())
          .isEqualTo(
              "restored "
                  + app.resolve("data")
                  + ", "
                  + app.resolve("config/config.json")
                  + " from "
                  + archive
                  + " (3 files verified)");
      assertThat(snapshot(app)).isEqualTo(with(before, "config", snapshot(app).get("config")));
      assertThat(app.resolve("data/new-2.0.0.db")).doesNotExist();
      for (Path parent : List.of(app, app.resolve("config"))) {
        try (Stream<Path> left = Files.list(parent)) {
          assertThat(left.map(p -> p.getFileName().toString()))
              .noneMatch(n -> n.startsWith(".runbook-restore"));
        }
      }
      try (Stream<Path> left = Files.list(run)) {
        assertThat(left.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrder("app.tar.gz", "app.paths", "SHA256SUMS");
      }
    }

    @Test
    void restoringIntoAnUntouchedTreeChangesNothingAndTwoBackupsShareARunDirectory()
        throws Exception {
      Map<String, String> before = snapshot(app);
      backup("");
      StepResult other =
          step.execute(
              Bind.args(
                  step,
                  "{paths: ['"
                      + app.resolve("data/app.db")
                      + "'], dest: '"
                      + backups
                      + "', name: db}"),
              ctx);
      assertThat(other.status()).as(other.message()).isEqualTo(Status.CHANGED);
      assertThat(Files.readAllLines(backups.resolve("run-1/SHA256SUMS"))).hasSize(8);
      assertThat(step.undo(args(""), backup("")).orElseThrow().run(ctx).status())
          .isEqualTo(Status.CHANGED);
      assertThat(Files.readAllLines(backups.resolve("run-1/SHA256SUMS"))).hasSize(8);
      assertThat(snapshot(app)).isEqualTo(before);
    }

    @Test
    void keepPrunesOnlyThisNamesOlderArchives() throws Exception {
      long hour = 3_600_000;
      for (String id : List.of("run-a", "run-b", "run-c")) {
        ctx.with("run", Map.of("id", id));
        assertThat(backup("").status()).isEqualTo(Status.CHANGED);
        step.execute(
            Bind.args(
                step,
                "{paths: ['" + app.resolve("config") + "'], dest: '" + backups + "', name: cfg}"),
            ctx);
      }
      // Archives written within one second: give them the order they were made in.
      for (String id : List.of("run-a", "run-b", "run-c")) {
        long age = (3 - List.of("run-a", "run-b", "run-c").indexOf(id)) * hour;
        Files.setLastModifiedTime(
            backups.resolve(id + "/app.tar.gz"),
            FileTime.fromMillis(System.currentTimeMillis() - age));
      }
      Files.createDirectories(backups.resolve("unrelated"));
      ctx.with("run", Map.of("id", "run-d"));
      StepResult r = backup(", keep: 2");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      assertThat(r.data().get("pruned"))
          .isEqualTo(List.of(backups + "/run-b/app.tar.gz", backups + "/run-a/app.tar.gz"));
      assertThat(backups.resolve("run-a/app.tar.gz")).doesNotExist();
      assertThat(backups.resolve("run-a/app.paths")).doesNotExist();
      assertThat(backups.resolve("run-a/cfg.tar.gz")).exists();
      assertThat(Files.readAllLines(backups.resolve("run-a/SHA256SUMS")))
          .allMatch(l -> l.contains("  cfg"));
      assertThat(backups.resolve("run-c/app.tar.gz")).exists();
      assertThat(backups.resolve("unrelated")).exists();

      ctx.with("run", Map.of("id", "run-e"));
      step.execute(
          Bind.args(
              step,
              "{paths: ['"
                  + app.resolve("config")
                  + "'], dest: '"
                  + backups
                  + "', name: cfg, keep: 1}"),
          ctx);
      assertThat(backups.resolve("run-a"))
          .doesNotExist(); // nothing of its own left: the directory goes too
      assertThat(backups.resolve("run-e/cfg.tar.gz")).exists();
    }

    @Test
    void aMissingPathFailsBeforeAnythingIsWritten() throws Exception {
      StepResult r =
          step.execute(
              Bind.args(step, "{paths: ['" + app.resolve("nope") + "'], dest: '" + backups + "'}"),
              ctx);
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo("cannot back up " + app.resolve("nope") + ": no such file or directory");
      assertThat(backups).doesNotExist();
    }
  }

  private static Map<String, String> with(Map<String, String> m, String key, String value) {
    Map<String, String> copy = new TreeMap<>(m);
    copy.put(key, value);
    return copy;
  }
}
