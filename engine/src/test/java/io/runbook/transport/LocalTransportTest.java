package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalTransportTest {
  private final LocalTransport local = new LocalTransport("controller");

  @TempDir Path tmp;

  @Test
  void runsCommandsAndReportsOutputAndExitCode() {
    ExecResult r = local.exec(ExecRequest.builder("echo hello; echo oops >&2; exit 3").build());
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stdoutText()).isEqualTo("hello\n");
    assertThat(r.stderrText()).isEqualTo("oops\n");
    assertThat(r.timedOut()).isFalse();
  }

  @Test
  void feedsStdinThenEof() {
    ExecResult r =
        local.exec(
            ExecRequest.builder("cat; echo done")
                .stdin("a\nb\n".getBytes(StandardCharsets.UTF_8))
                .build());
    assertThat(r.stdoutText()).isEqualTo("a\nb\ndone\n");
  }

  @Test
  void passesArgumentsEnvironmentAndDirectoryUnchanged() {
    List<String> args = List.of("it's", "two words", "$HOME", "$(id)", "", "*");
    String command = "printf '[%s]\\n' " + Shell.join(args) + "; pwd; echo \"$X\"";
    ExecResult r =
        local.exec(
            ExecRequest.builder(command).chdir(tmp.toString()).env(Map.of("X", "$Y")).build());
    assertThat(r.stdoutText())
        .isEqualTo("[it's]\n[two words]\n[$HOME]\n[$(id)]\n[]\n[*]\n" + tmp + "\n$Y\n");
  }

  @Test
  void timeoutKillsTheCommand() {
    long started = System.nanoTime();
    ExecResult r =
        local.exec(
            ExecRequest.builder("echo started; sleep 30.0293")
                .timeout(Duration.ofMillis(500))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.stdoutText()).isEqualTo("started\n");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    assertThat(Processes.running("sleep 30.0293")).as("the killed command's processes").isEmpty();
  }

  @Test
  void keepsOnlyTheTailOfLongOutput() {
    ExecResult r = local.exec(ExecRequest.builder("seq 1 100000").maxOutput(16).build());
    assertThat(r.stdoutText()).isEqualTo("98\n99999\n100000\n");
    assertThat(r.stdoutTotal()).isEqualTo(588895);
  }

  @Test
  void uploadsAndDownloadsBinaryFilesWithMode() throws Exception {
    byte[] content = new byte[1 << 20];
    new Random(7).nextBytes(content);
    Path file = tmp.resolve("a/b/blob.bin");
    local.upload(content, file.toString(), "0640", Become.NONE);
    assertThat(Files.readAllBytes(file)).isEqualTo(content);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-r-----");
    assertThat(local.download(file.toString(), Become.NONE)).isEqualTo(content);
    try (var leftovers = Files.list(file.getParent())) {
      assertThat(leftovers).as("no temporary file left behind").containsExactly(file);
    }
  }

  @Test
  void uploadKeepsTheModeOfAFileItReplaces() throws Exception {
    Path file = tmp.resolve("script.sh");
    Files.writeString(file, "old");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-x---"));
    local.upload("new".getBytes(StandardCharsets.UTF_8), file.toString(), null, Become.NONE);
    assertThat(Files.readString(file)).isEqualTo("new");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rwxr-x---");
  }

  @Test
  void downloadOfAMissingFileSaysWhich() {
    String missing = tmp.resolve("nope").toString();
    assertThatThrownBy(() -> local.download(missing, Become.NONE))
        .isInstanceOf(RunbookException.class)
        .isNotInstanceOf(TransportException.class)
        .hasMessageContaining("cannot read " + missing);
  }
}
