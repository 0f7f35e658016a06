package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SilentHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SSH settings a run cannot honour are input errors (exit 4) before any host is contacted: the
 * hosts are a real listening socket on loopback that must see no connection.
 */
class SshOptionsTest {
  static final Path RUNBOOK = Path.of("../runbooks/stop-sample.yaml");

  @TempDir Path tmp;
  @RegisterExtension final SilentHost host = new SilentHost();

  private static Run run(String... args) {
    return Cli.run(args);
  }

  private Path inventory(String extraVars) throws IOException {
    Path inv = tmp.resolve("hosts.yml");
    Files.writeString(
        inv,
        """
        all:
          children:
            sample:
              vars: {mode: binary, app_dir: /tmp/x}
              hosts:
                web1: {ansible_host: 127.0.0.1, ansible_port: %d, %s}
                web2: {ansible_host: 127.0.0.1, ansible_port: %d}
        """
            .formatted(host.port(), extraVars, host.port()));
    return inv;
  }

  @Test
  void aJumpThatCannotBeHonouredStopsTheRunBeforeAnyConnection() throws IOException {
    Path inv =
        inventory("ansible_ssh_common_args: '-o ProxyCommand=\"nc -X 5 -x socks:1080 %h %p\"'");
    Run r =
        run(
            "apply",
            RUNBOOK.toString(),
            "-i",
            inv.toString(),
            "--yes",
            "--ssh-config",
            "none",
            "--state-dir",
            tmp.resolve("state").toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(4);
    assertThat(r.err())
        .contains("host 'web1'")
        .contains("ProxyCommand 'nc -X 5 -x socks:1080 %h %p' cannot be honoured")
        .doesNotContain("web2");
    assertThat(host.connections()).as("no host contacted").isZero();
  }

  @Test
  void aBadOptionInTheArgsIsNamedWithSshsOwnMessage() throws IOException {
    Path inv = inventory("ansible_ssh_extra_args: '-o NoSuchOption=1'");
    Run r =
        run(
            "apply",
            RUNBOOK.toString(),
            "-i",
            inv.toString(),
            "--yes",
            "--ssh-config",
            "none",
            "--state-dir",
            tmp.resolve("state").toString());
    assertThat(r.code()).isEqualTo(4);
    assertThat(r.err())
        .contains("host 'web1'")
        .containsIgnoringCase("Bad configuration option: nosuchoption");
    assertThat(host.connections()).isZero();
  }

  @Test
  void askingForPasswordsWithoutATerminalIsAnInputError() throws IOException {
    Path inv = inventory("mode: binary");
    for (String option : new String[] {"--ask-pass", "-K"}) {
      Run r = run("doctor", "-i", inv.toString(), option);
      assertThat(r.code()).isEqualTo(4);
      assertThat(r.err()).contains("needs a terminal").contains("ansible_");
    }
    assertThat(host.connections()).isZero();
  }

  @Test
  void aMissingSshConfigOrPassphraseFileIsAnInputError() throws IOException {
    Path inv = inventory("mode: binary");
    Run r = run("doctor", "-i", inv.toString(), "--ssh-config", tmp.resolve("nope").toString());
    assertThat(r.code()).isEqualTo(4);
    assertThat(r.err()).contains("--ssh-config").contains("nope");
    r =
        run(
            "doctor",
            "-i",
            inv.toString(),
            "--key-passphrase-file",
            tmp.resolve("nope").toString());
    assertThat(r.code()).isEqualTo(4);
    assertThat(r.err()).contains("--key-passphrase-file");
    assertThat(host.connections()).isZero();
  }
}
