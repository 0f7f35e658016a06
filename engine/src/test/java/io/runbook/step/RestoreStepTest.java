package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestoreStepTest {
  final RestoreStep step = new RestoreStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  StepResult run(String yaml) throws Exception {
    return step.execute(Bind.args(step, yaml), new FakeContext(host, dir));
  }

  @Test
  void verifiesEverythingBeforeItReplacesAnything() throws Exception {
    host.answer(ok("verified 3\nrestored /srv/app/data\nrestored /etc/app.conf\n"));
    StepResult r = run("{archive: /srv/backups/r1/app.tar.gz}");
    String script = host.last().command();
    assertThat(script).contains("d=/srv/backups/r1; n=app");
    // The archive's checksum, then the extracted files', then the first rename.
    int archive = script.indexOf("check \"$d\" \"$t/own\"");
    int files = script.indexOf("check \"$t\" \"$t/files\"");
    int firstMove = script.indexOf("mv -T");
    assertThat(archive).isPositive().isLessThan(files);
    assertThat(files).isLessThan(firstMove);
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message())
        .isEqualTo(
            "restored /srv/app/data, /etc/app.conf from /srv/backups/r1/app.tar.gz (3 files verified)");
    assertThat(r.data())
        .containsEntry("archive", "/srv/backups/r1/app.tar.gz")
        .containsEntry("dir", "/srv/backups/r1")
        .containsEntry("files", 3)
        .containsEntry("restored", List.of("/srv/app/data", "/etc/app.conf"));
  }

  @Test
  void verifyOnlyStopsAfterTheChecksAndIsOk() throws Exception {
    host.answer(ok("verified 3\n"));
    StepResult r = run("{dir: /srv/backups/r1, verify_only: true}");
    assertThat(host.last().command()).contains("n=backup").contains("exit 0\nisdir()");
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message())
        .isEqualTo("verified /srv/backups/r1/backup.tar.gz: 3 files match SHA256SUMS");
  }

  @Test
  void aRefusalIsTheScriptsOwnMessage() throws Exception {
    host.answer(
        result(
            3,
            "",
            """
            sha256sum: WARNING: 1 computed checksum did NOT match
            runbook: refusing to restore: app.tar.gz does not match its checksum in /b/r1/SHA256SUMS; nothing was changed
            """));
    StepResult r = run("{dir: /b/r1, name: app}");
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "refusing to restore: app.tar.gz does not match its checksum in /b/r1/SHA256SUMS; nothing was changed");
  }

  @Test
  void aFailureHalfWayNamesWhatWasAlreadyRestored() throws Exception {
    host.answer(
        result(
            1,
            "verified 2\nrestored /srv/app/data\n",
            "mv: cannot move '/x' to '/etc/app.conf': Permission denied\n"));
    StepResult r = run("{dir: /b/r1, name: app}");
    assertThat(r.message())
        .isEqualTo(
            "cannot restore from /b/r1/app.tar.gz: mv: cannot move '/x' to '/etc/app.conf': "
                + "Permission denied (already restored: /srv/app/data)");
  }

  @Test
  void validationNamesEachProblem() {
    assertThat(step.validate(Bind.args(step, "{name: app}")))
        .containsExactly(
            "give exactly one of 'archive' (the backup's .tar.gz) or 'dir' (its run directory, with 'name')");
    assertThat(step.validate(Bind.args(step, "{archive: /b/r1/app.tar.gz, dir: /b/r1}")))
        .hasSize(1);
    assertThat(step.validate(Bind.args(step, "{archive: /b/r1/app.tar.gz, name: app}")))
        .containsExactly("'name' goes with 'dir'; 'archive' already names the backup");
    assertThat(step.validate(Bind.args(step, "{archive: b/app.zip}")))
        .containsExactly(
            "'b/app.zip' is not an absolute path",
            "archive 'b/app.zip' is not a .tar.gz made by the backup step");
    assertThat(step.validate(Bind.args(step, "{dir: /b/r1, name: '../x'}")))
        .containsExactly("backup name '../x' may hold only letters, digits, '.', '_' and '-'");
    assertThat(step.validate(Bind.args(step, "{dir: /b/r1}"))).isEmpty();
  }

  @Nested
  class OnRealFiles {
    final BackupStep backup = new BackupStep();
    FakeContext ctx;
    Path data;
    Path run;

    @BeforeEach
    void setUp() throws Exception {
      ctx = new FakeContext(new LocalTransport("local"), dir).with("run", Map.of("id", "r1"));
      data = dir.resolve("srv/app/data");
      Files.createDirectories(data.resolve("sub"));
      Files.writeString(data.resolve("app.db"), "rows");
      Files.writeString(data.resolve("sub/log.txt"), "log");
      StepResult r =
          backup.execute(
              Bind.args(
                  backup,
                  "{paths: ['" + data + "'], dest: '" + dir.resolve("backups") + "', name: app}"),
              ctx);
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      run = dir.resolve("backups/r1");
      Files.writeString(data.resolve("app.db"), "migrated rows");
      Files.writeString(data.resolve("added.txt"), "new");
    }

    StepResult restore(String yaml) throws Exception {
      return step.execute(Bind.args(step, yaml), ctx);
    }

    @Test
    void verifyOnlyChecksAndChangesNothing() throws Exception {
      StepResult r = restore("{dir: '" + run + "', name: app, verify_only: true}");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.OK);
      assertThat(r.data()).containsEntry("files", 2);
      assertThat(Files.readString(data.resolve("app.db"))).isEqualTo("migrated rows");
    }

    @Test
    void restoresByArchivePath() throws Exception {
      StepResult r = restore("{archive: '" + run.resolve("app.tar.gz") + "'}");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(data.resolve("app.db"))).isEqualTo("rows");
      assertThat(data.resolve("added.txt")).doesNotExist();
    }

    @Test
    void aDamagedArchiveIsRefusedAndNothingIsTouched() throws Exception {
      Files.write(run.resolve("app.tar.gz"), new byte[] {0}, StandardOpenOption.APPEND);
      StepResult r = restore("{dir: '" + run + "', name: app}");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo(
              "refusing to restore: app.tar.gz does not match its checksum in "
                  + run
                  + "/SHA256SUMS; nothing was changed");
      assertThat(Files.readString(data.resolve("app.db"))).isEqualTo("migrated rows");
      assertThat(data.resolve("added.txt")).exists();
    }

    @Test
    void aFileWhoseChecksumDoesNotMatchIsRefusedAndNothingIsTouched() throws Exception {
      Path sums = run.resolve("SHA256SUMS");
      String rel = "app" + data + "/app.db";
      Files.writeString(
          sums,
          Files.readString(sums)
              .replaceAll(
                  "(?m)^[0-9a-f]{64}(  " + Pattern.quote(rel) + ")$", "0".repeat(64) + "$1"));
      StepResult r = restore("{dir: '" + run + "', name: app}");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo(
              "refusing to restore: "
                  + rel
                  + " does not match its checksum in "
                  + run
                  + "/SHA256SUMS; nothing was changed");
      assertThat(Files.readString(data.resolve("app.db"))).isEqualTo("migrated rows");
      try (var left = Files.list(run)) {
        assertThat(left.map(p -> p.getFileName().toString()))
            .noneMatch(n -> n.startsWith(".restore-"));
      }
    }

    @Test
    void missingChecksumsOrArchiveAreRefused() throws Exception {
      assertThat(restore("{dir: '" + run + "', name: other}").message())
          .isEqualTo("refusing to restore: " + run + " has no other.tar.gz and other.paths");
      assertThat(restore("{dir: '" + dir.resolve("nowhere") + "'}").message())
          .isEqualTo("refusing to restore: no backup directory " + dir.resolve("nowhere"));
      Files.delete(run.resolve("SHA256SUMS"));
      assertThat(restore("{dir: '" + run + "', name: app}").message())
          .isEqualTo(
              "refusing to restore: "
                  + run
                  + "/SHA256SUMS has no checksums of app.tar.gz and app.paths");
      assertThat(Files.readString(data.resolve("app.db"))).isEqualTo("migrated rows");
    }

    @Test
    void aDataDirectoryReplacedByAFileComesBackAsTheDirectory() throws Exception {
      try (Stream<Path> all = Files.walk(data)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      Files.writeString(data, "oops, a file");
      StepResult r = restore("{dir: '" + run + "', name: app}");
      assertThat(r.status()).as(r.message()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(data.resolve("sub/log.txt"))).isEqualTo("log");
    }
  }
}
