package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static io.runbook.step.RecordingTransport.result;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CopyStepTest {
  final CopyStep step = new CopyStep();
  final RecordingTransport host = new RecordingTransport();
  @TempDir Path dir;

  static String sha(String s) {
    return RemoteFile.sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  static String stat(String content) {
    return "file 644 app:app " + content.length() + " " + sha(content) + "\n";
  }

  @Test
  void newFileIsUploadedAndReportedChanged() {
    host.answer(ok("absent\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{dest: /etc/app.conf, content: \"port=8080\\n\", mode: '0640'}"),
            new FakeContext(host, dir));

    assertThat(host.requests).hasSize(2);
    assertThat(host.requests.get(0).command())
        .startsWith("p=/etc/app.conf; ")
        .contains("sha256sum");
    assertThat(host.requests.get(1).command())
        .contains("mktemp", "chmod 0640", "mv -f \"$t\" /etc/app.conf");
    assertThat(new String(host.requests.get(1).stdin(), StandardCharsets.UTF_8))
        .isEqualTo("port=8080\n");
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).isEqualTo("created /etc/app.conf");
    assertThat(r.data())
        .containsEntry("dest", "/etc/app.conf")
        .containsEntry("checksum", sha("port=8080\n"))
        .containsEntry("previous_checksum", "");
  }

  @Test
  void sameChecksumModeAndOwnerIsOkAndWritesNothing() {
    host.answer(ok(stat("port=8080\n")));
    StepResult r =
        step.execute(
            Bind.args(
                step, "{dest: /etc/app.conf, content: \"port=8080\\n\", mode: 644, owner: app}"),
            new FakeContext(host, dir));
    assertThat(host.requests).hasSize(1);
    assertThat(r.status()).isEqualTo(Status.OK);
    assertThat(r.message()).isEqualTo("/etc/app.conf is up to date");
    assertThat(r.data()).containsEntry("previous_checksum", sha("port=8080\n"));
    assertThat(step.undo(null, r)).isEmpty();
  }

  @Test
  void differentContentKeepsTheOldBytesForUndo() throws Exception {
    host.answer(ok(stat("port=80\n")), ok("port=80\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{dest: /etc/app.conf, content: \"port=8080\\n\"}"),
            new FakeContext(host, dir));

    assertThat(host.commands().get(1)).isEqualTo("cat /etc/app.conf");
    assertThat(host.commands().get(2)).contains("chmod --reference=/etc/app.conf"); // mode kept
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).isEqualTo("updated /etc/app.conf");
    assertThat(r.data())
        .containsEntry("previous_checksum", sha("port=80\n"))
        .containsEntry("previous_mode", "644")
        .containsEntry(
            RemoteFile.PREVIOUS_CONTENT,
            Base64.getEncoder().encodeToString("port=80\n".getBytes(UTF_8)));

    Step.Undo undo = step.undo(null, r).orElseThrow();
    assertThat(undo.description()).isEqualTo("restore previous /etc/app.conf");
    RecordingTransport later = new RecordingTransport();
    assertThat(undo.run(new FakeContext(later, dir)).status()).isEqualTo(Status.CHANGED);
    assertThat(new String(later.requests.get(0).stdin(), StandardCharsets.UTF_8))
        .isEqualTo("port=80\n");
    assertThat(later.commands().get(1)).isEqualTo("chmod 644 /etc/app.conf");
  }

  @Test
  void theUndoStateIsJournaledBeforeTheUploadSoAStepCutShortCanBeUndone() throws Exception {
    host.answer(ok(stat("port=80\n")), ok("port=80\n"));
    FakeContext ctx = new FakeContext(host, dir);
    ctx.atCheckpoint = () -> String.join(" | ", host.commands());

    step.execute(Bind.args(step, "{dest: /etc/app.conf, content: \"port=8080\\n\"}"), ctx);

    assertThat(ctx.checkpoints).hasSize(1);
    assertThat(ctx.seenAtCheckpoint.get(0)).as("nothing written yet").doesNotContain("mktemp");
    // what a controller that died during the upload leaves: the checkpoint alone undoes the step
    Step.Undo undo =
        step.undo(null, StepResult.changed("in flight").withData(ctx.checkpoints.get(0)))
            .orElseThrow();
    assertThat(undo.description()).isEqualTo("restore previous /etc/app.conf");
  }

  @Test
  void fileOverOneMebibyteIsReplacedWithoutAutomaticUndo() {
    host.answer(ok("file 644 app:app " + (RemoteFile.UNDO_LIMIT + 1) + " " + sha("big") + "\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{dest: /srv/big.bin, content: small}"), new FakeContext(host, dir));
    assertThat(host.commands()).noneMatch(c -> c.startsWith("cat "));
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(r.message()).contains("over 1 MiB: no automatic undo");
    assertThat(step.undo(null, r)).isEmpty();
  }

  @Test
  void createdFileIsUndoneByDeletingIt() throws Exception {
    StepResult r =
        StepResult.changed("created")
            .withData(Map.of("dest", "/etc/new conf", "checksum", "x", "previous_checksum", ""));
    Step.Undo undo = step.undo(null, r).orElseThrow();
    undo.run(new FakeContext(host, dir));
    assertThat(host.commands()).containsExactly("rm -f '/etc/new conf'");
  }

  @Test
  void directoryDestFails() {
    host.answer(ok("directory\n"));
    StepResult r =
        step.execute(Bind.args(step, "{dest: /etc, content: x}"), new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).isEqualTo("/etc is a directory; give the full path of the file");
  }

  @Test
  void unreadableDestFailsSayingWhy() {
    host.answer(result(1, "", "sh: 1: cannot open /etc/shadow: Permission denied\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{dest: /etc/shadow, content: x}"), new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo("cannot read /etc/shadow: sh: 1: cannot open /etc/shadow: Permission denied");
  }

  @Test
  void validationNamesEachProblem() {
    assertThat(step.validate(Bind.args(step, "{dest: /x}")))
        .containsExactly(
            "give exactly one of 'content' (the text) or 'src' (a file next to the runbook)");
    assertThat(step.validate(Bind.args(step, "{dest: /x, content: a, src: b}"))).hasSize(1);
    assertThat(step.validate(Bind.args(step, "{dest: /x, src: files/, mode: u+x}")))
        .containsExactly(
            "'src' files/ is a directory; only single files are supported: one step per file, or an archive unpacked with shell",
            "mode 'u+x' is not octal; write it like \"0644\" (quoted, or YAML reads 0644 as a number)");
    assertThat(step.validate(Bind.args(step, "{dest: /x, src: '" + dir + "'}")))
        .singleElement()
        .asString()
        .contains("is a directory");
    assertThat(step.validate(Bind.args(step, "{dest: /x, src: '" + dir + "/missing.conf'}")))
        .containsExactly("src file not found on the controller: " + dir + "/missing.conf");
    assertThat(step.validate(Bind.args(step, "{dest: /x, content: '', mode: 0755}"))).isEmpty();
  }

  @Nested
  class OnRealFiles {
    FakeContext ctx;
    Path dest;

    @BeforeEach
    void setUp() {
      ctx = new FakeContext(new LocalTransport("local"), dir);
      dest = dir.resolve("etc/app/app.conf");
    }

    StepResult copy(String content, String more) throws Exception {
      return step.execute(
          Bind.args(step, "{dest: '" + dest + "', content: '" + content + "'" + more + "}"), ctx);
    }

    @Test
    void writesIdempotentlyAndUndoRestoresTheOldBytesAndMode() throws Exception {
      StepResult first = copy("v1", ", mode: '0600'");
      assertThat(first.status()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(dest)).isEqualTo("v1");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest)))
          .isEqualTo("rw-------");
      assertThat(first.data().get("checksum"))
          .isEqualTo(RemoteFile.sha256(Files.readAllBytes(dest)));

      assertThat(copy("v1", ", mode: '0600'").status()).isEqualTo(Status.OK);

      StepResult second = copy("v2", ", mode: '0640'");
      assertThat(second.status()).isEqualTo(Status.CHANGED);
      assertThat(second.data())
          .containsEntry("previous_checksum", sha("v1"))
          .containsEntry("checksum", sha("v2"));
      assertThat(Files.readString(dest)).isEqualTo("v2");

      StepResult undone = step.undo(null, second).orElseThrow().run(ctx);
      assertThat(undone.status()).isEqualTo(Status.CHANGED);
      assertThat(Files.readString(dest)).isEqualTo("v1");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest)))
          .isEqualTo("rw-------");

      step.undo(null, first).orElseThrow().run(ctx);
      assertThat(dest).doesNotExist();
    }

    @Test
    void modeOnlyChangeIsChangedAndUndoable() throws Exception {
      copy("same", ", mode: '0644'");
      StepResult r = copy("same", ", mode: '0600'");
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(r.message()).startsWith("changed mode/owner of ");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest)))
          .isEqualTo("rw-------");
      step.undo(null, r).orElseThrow().run(ctx);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest)))
          .isEqualTo("rw-r--r--");
    }

    @Test
    void srcIsCopiedByteForByteFromTheRunbookDirectory() throws Exception {
      byte[] bytes = new byte[3000];
      Arrays.fill(bytes, (byte) 0xff);
      bytes[0] = 0;
      Files.createDirectories(dir.resolve("files"));
      Files.write(dir.resolve("files/blob.bin"), bytes);
      StepResult r =
          step.execute(Bind.args(step, "{dest: '" + dest + "', src: files/blob.bin}"), ctx);
      assertThat(r.status()).isEqualTo(Status.CHANGED);
      assertThat(Files.readAllBytes(dest)).isEqualTo(bytes);
      assertThat(r.data()).containsEntry("checksum", RemoteFile.sha256(bytes));
    }

    @Test
    void missingSrcFails() throws Exception {
      StepResult r = step.execute(Bind.args(step, "{dest: '" + dest + "', src: files/nope}"), ctx);
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .isEqualTo("src file not found on the controller: " + dir.resolve("files/nope"));
    }

    @Test
    void backupKeepsTheReplacedFileOnTheHost() throws Exception {
      copy("old", "");
      StepResult r = copy("new", ", backup: true");
      Path backup = Path.of((String) r.data().get("backup_file"));
      assertThat(backup.getFileName().toString()).startsWith("app.conf.").endsWith("~");
      assertThat(Files.readString(backup)).isEqualTo("old");
      assertThat(Files.readString(dest)).isEqualTo("new");
    }

    @Test
    void ownerIsSetAndAFailedChownPutsTheFileBack() throws Exception {
      String me = System.getProperty("user.name");
      assertThat(copy("mine", ", owner: " + me).status()).isEqualTo(Status.CHANGED);
      assertThat(copy("mine", ", owner: " + me).status()).isEqualTo(Status.OK);

      StepResult r = copy("theirs", ", owner: no-such-user-xyz");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message())
          .startsWith("cannot set mode/owner of " + dest + ": ")
          .endsWith("; the file is back as it was");
      assertThat(Files.readString(dest)).isEqualTo("mine");
    }

    @Test
    void unwritableDestinationIsAStepFailureNotALostHost() throws Exception {
      // A regular file where a parent directory should be: unwritable even for root.
      Files.writeString(dir.resolve("etc"), "not a directory");
      StepResult r = copy("x", "");
      assertThat(r.status()).isEqualTo(Status.FAILED);
      assertThat(r.message()).startsWith("cannot write " + dest + ": ");
    }
  }

  /**
   * A mode from a registered value was "[=m]" at validate time; when the step runs it is checked
   * again.
   */
  @Test
  void aSymbolicModeFromAVariableIsRefusedWhenTheStepRuns() {
    StepResult r =
        step.execute(
            new CopyStep.Args("/etc/app.conf", "x", null, "u+x", null, false),
            new FakeContext(host, dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).contains("mode");
    assertThat(host.requests).isEmpty();
  }
}
