package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.RunbookException;
import io.runbook.inventory.Host;
import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import io.runbook.testing.TestKeys;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.KeyPassphrases;
import io.runbook.transport.OpenSshConfig;
import io.runbook.transport.Secret;
import io.runbook.transport.SshTransport;
import io.runbook.transport.Transport;
import io.runbook.transport.TransportException;
import io.runbook.yaml.Location;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Network;

/**
 * Hosts behind bastions, as shops run them: real OpenSSH containers; {@code target1} and {@code
 * target2} are on internal Docker networks under names only Docker's DNS knows, so the controller
 * cannot reach them directly (a test shows it), and a jump host that is down must leave the target
 * unreachable even when the target itself could be reached directly. Also a real ssh-agent holding
 * a passphrase-protected key, key passphrases, password login, and sudo with a password.
 */
class BastionIT {
  private static final String SUDO_PASSWORD = "s3cret-sudo-pw";
  private static final String LOGIN_PASSWORD = "s3cret-login-pw";
  private static final String PASSPHRASE = "s3cret-passphrase";

  private static Network netA;
  private static Network netB;
  private static SshHost bastion;
  private static SshHost hop2;
  private static SshHost target1;
  private static SshHost target2;
  private static SshHost direct;
  private static Path dir;
  private static Path config;
  private static Path encryptedKey;
  private static Path agentSocket;
  private static Process agent;

  @BeforeAll
  static void start() throws Exception {
    TestKeys keys = TestKeys.shared();
    netA = Network.builder().createNetworkCmdModifier(c -> c.withInternal(true)).build();
    netB = Network.builder().createNetworkCmdModifier(c -> c.withInternal(true)).build();
    bastion = SshHost.start("bastion", keys);
    bastion.attach(netA);
    hop2 = SshHost.startOn("hop2", keys, netA, false);
    hop2.attach(netB);
    target1 = SshHost.startOn("target1", keys, netA, false);
    target2 = SshHost.startOn("target2", keys, netB, false);
    direct = SshHost.start("direct", keys);

    dir = Files.createTempDirectory("runbook-bastion");
    Path knownHosts = dir.resolve("known_hosts");
    Files.write(
        knownHosts,
        List.of(
            bastion.knownHostsLine(),
            hop2.knownHostsLineByName(),
            target1.knownHostsLineByName(),
            target2.knownHostsLineByName(),
            direct.knownHostsLine()));

    // A passphrase-protected key, authorised on target1 only, held by a real ssh-agent.
    encryptedKey = dir.resolve("id_encrypted");
    run(
        Map.of(),
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        PASSPHRASE,
        "-C",
        "encrypted@test",
        "-f",
        encryptedKey.toString());
    target1.exec(
        "sh",
        "-c",
        "cat >> /home/runbook/.ssh/authorized_keys <<EOF\n"
            + Files.readString(Path.of(encryptedKey + ".pub")).strip()
            + "\nEOF");
    agentSocket = dir.resolve("agent.sock");
    agent =
        new ProcessBuilder("ssh-agent", "-D", "-a", agentSocket.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("agent.log").toFile())
            .start();
    Await.until(Duration.ofSeconds(5), "ssh-agent's socket", () -> Files.exists(agentSocket));
    Path askpass = dir.resolve("askpass.sh");
    Files.writeString(askpass, "#!/bin/sh\necho '" + PASSPHRASE + "'\n");
    Files.setPosixFilePermissions(askpass, PosixFilePermissions.fromString("rwx------"));
    run(
        Map.of(
            "SSH_AUTH_SOCK",
            agentSocket.toString(),
            "SSH_ASKPASS",
            askpass.toString(),
            "SSH_ASKPASS_REQUIRE",
            "force",
            "DISPLAY",
            ":0"),
        "ssh-add",
        encryptedKey.toString());

    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens here once it is closed: a bastion that is down
    }
    config = dir.resolve("ssh_config");
    String shared = keys.privateKey().toString();
    Files.writeString(
        config,
        """
        Host bastion
          HostName 127.0.0.1
          Port %d
          IdentityFile %s
        Host deadbastion
          HostName 127.0.0.1
          Port %d
          IdentityFile %s
        Host hop2 target1 target2
          IdentityFile %s
        Host target1
          ProxyJump bastion
        Host target2-cfg
          HostName target2
          IdentityFile %s
          ProxyJump bastion,hop2
        Host agent-target1
          HostName target1
          ProxyJump bastion
          IdentityFile %s
          IdentityAgent %s
        Host *
          User runbook
          IdentitiesOnly yes
          UserKnownHostsFile %s
          ConnectTimeout 5
        """
            .formatted(
                bastion.port(),
                shared,
                closed,
                shared,
                shared,
                shared,
                encryptedKey,
                agentSocket,
                knownHosts));
  }

  @AfterAll
  static void stop() {
    if (agent != null) agent.destroy();
    for (SshHost h : new SshHost[] {target1, target2, hop2, bastion, direct})
      if (h != null) h.close();
    if (netA != null) netA.close();
    if (netB != null) netB.close();
  }

  private static StandardConnector connector(Secret becomePassword, KeyPassphrases passphrases) {
    return new StandardConnector(
        new ConnectionSettings(
            null,
            false,
            null,
            new OpenSshConfig.Source(config, false),
            passphrases,
            null,
            becomePassword));
  }

  private static StandardConnector connector() {
    return connector(null, null);
  }

  private static Host host(String name, Map<String, Object> vars) {
    return new Host(
        name, new LinkedHashMap<>(vars), List.of("all"), new Location("hosts.yml", 1, 1));
  }

  private static String hostnameOf(Transport t) {
    ExecResult r = t.exec(ExecRequest.builder("hostname").build());
    assertThat(r.exitCode()).as(r.stderrText()).isZero();
    return r.stdoutText().strip();
  }

  @Test
  void oneHopFromSshConfig() {
    try (Transport t = connector().open(host("target1", Map.of()))) {
      assertThat(hostnameOf(t)).isEqualTo(target1.exec("hostname").strip());
      assertThat(t.describe()).contains("via bastion");
    }
  }

  @Test
  void theTargetsCannotBeReachedDirectly() {
    assertThatThrownBy(
            () ->
                connector()
                    .open(host("target1", Map.of("ansible_ssh_common_args", "-o ProxyJump=none"))))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("target1");
  }

  @Test
  void twoHopsFromSshConfigAndFromCommonArgs() {
    String expected = target2.exec("hostname").strip();
    try (Transport t = connector().open(host("target2-cfg", Map.of()))) {
      assertThat(hostnameOf(t)).isEqualTo(expected);
    }
    for (String args : List.of("-o ProxyJump=bastion,hop2", "-J bastion,hop2")) {
      try (Transport t =
          connector()
              .open(
                  host(
                      "app", Map.of("ansible_host", "target2", "ansible_ssh_common_args", args)))) {
        assertThat(hostnameOf(t)).as(args).isEqualTo(expected);
        assertThat(t.describe()).contains("via hop2").contains("via bastion");
      }
    }
    // A ProxyCommand that is a jump, as older setups write it.
    try (Transport t =
        connector()
            .open(
                host(
                    "app",
                    Map.of(
                        "ansible_host",
                        "target1",
                        "ansible_ssh_common_args",
                        "-o ProxyCommand='ssh -q -W %h:%p bastion'")))) {
      assertThat(hostnameOf(t)).isEqualTo(target1.exec("hostname").strip());
    }
  }

  @Test
  void aDeadBastionLeavesTheHostUnreachableNeverADirectConnection() {
    Map<String, Object> reachable =
        new LinkedHashMap<>(
            Map.of(
                "ansible_host",
                "127.0.0.1",
                "ansible_port",
                direct.port(),
                "ansible_ssh_private_key_file",
                TestKeys.shared().privateKey().toString()));
    try (Transport t = connector().open(host("direct", reachable))) {
      assertThat(hostnameOf(t)).as("the target itself answers directly").isNotEmpty();
    }
    reachable.put("ansible_ssh_common_args", "-o ProxyJump=deadbastion");
    assertThatThrownBy(() -> connector().open(host("direct", reachable)))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("jump host deadbastion")
        .hasMessageContaining("connection refused");
  }

  @Test
  void aJumpRunbookCannotMakeIsAnInputErrorBeforeAnyConnection() {
    StandardConnector c = connector();
    assertThatThrownBy(
            () ->
                c.prepare(
                    List.of(
                        host(
                            "app",
                            Map.of(
                                "ansible_host",
                                "target1",
                                "ansible_ssh_common_args",
                                "-o ProxyCommand='nc -x bastion:1080 %h %p'")))))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("host 'app'")
        .hasMessageContaining("ProxyCommand");
  }

  @Test
  void aPassphraseProtectedKeyHeldByTheAgent() {
    try (SshTransport t = (SshTransport) connector().open(host("agent-target1", Map.of()))) {
      assertThat(hostnameOf(t)).isEqualTo(target1.exec("hostname").strip());
      assertThat(t.loginMethod()).startsWith("agent key encrypted@test");
    }
    // Without the agent and without a passphrase, the key cannot be used, and the message says how
    // to fix it.
    assertThatThrownBy(
            () ->
                connector()
                    .open(
                        host(
                            "agent-target1",
                            Map.of("ansible_ssh_common_args", "-o IdentityAgent=none"))))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("passphrase-protected")
        .hasMessageContaining("RUNBOOK_KEY_PASSPHRASE");
  }

  @Test
  void aPassphraseFromAFileOrTheEnvironment() {
    StandardConnector c =
        connector(null, key -> key.equals(encryptedKey) ? new Secret(PASSPHRASE) : null);
    try (SshTransport t =
        (SshTransport)
            c.open(
                host(
                    "agent-target1", Map.of("ansible_ssh_common_args", "-o IdentityAgent=none")))) {
      assertThat(hostnameOf(t)).isEqualTo(target1.exec("hostname").strip());
      assertThat(t.loginMethod()).isEqualTo("key file " + encryptedKey);
    }
  }

  @Test
  void sudoWithAPasswordOnStdinNeverInTheOutput() {
    target1.exec(
        "sh",
        "-c",
        "id pwuser >/dev/null 2>&1 || (useradd -m -s /bin/bash pwuser"
            + " && echo 'pwuser:"
            + SUDO_PASSWORD
            + "' | chpasswd"
            + " && echo 'pwuser ALL=(ALL) ALL' > /etc/sudoers.d/pwuser && chmod 440 /etc/sudoers.d/pwuser"
            + " && install -d -m 700 -o pwuser -g pwuser /home/pwuser/.ssh"
            + " && cp /home/runbook/.ssh/authorized_keys /home/pwuser/.ssh/ && chown pwuser /home/pwuser/.ssh/authorized_keys)");
    Map<String, Object> vars = Map.of("ansible_host", "target1", "ansible_user", "pwuser");
    Become root = Become.as("root");
    try (Transport t = connector().open(host("target1", vars))) {
      ExecResult r = t.exec(ExecRequest.builder("id -u").become(root).build());
      assertThat(r.exitCode()).as("sudo -n without a password must fail here").isNotZero();
    }
    Map<String, Object> withPassword = new LinkedHashMap<>(vars);
    withPassword.put("ansible_become_password", SUDO_PASSWORD);
    try (Transport t = connector().open(host("target1", withPassword))) {
      ExecResult id = t.exec(ExecRequest.builder("id -u").become(root).build());
      assertThat(id.exitCode()).as(id.stderrText()).isZero();
      assertThat(id.stdoutText().strip()).isEqualTo("0");
      ExecResult cat =
          t.exec(
              ExecRequest.builder("cat")
                  .stdin("payload\n".getBytes(StandardCharsets.UTF_8))
                  .become(root)
                  .build());
      assertThat(cat.stdoutText()).isEqualTo("payload\n");
      assertThat(cat.stdoutText() + cat.stderrText()).doesNotContain(SUDO_PASSWORD);
      // Every command line on the host while a sudo'ed command runs: the password is in none of
      // them.
      ExecResult ps = t.exec(ExecRequest.builder("ps -eo args").become(root).build());
      assertThat(ps.exitCode()).isZero();
      assertThat(ps.stdoutText()).contains("sudo").doesNotContain(SUDO_PASSWORD);
      ExecResult noBecome = t.exec(ExecRequest.builder("id -un").build());
      assertThat(noBecome.stdoutText().strip()).isEqualTo("pwuser");
    }
    // --ask-become-pass gives it to hosts without ansible_become_password; a wrong one fails,
    // unprinted.
    try (Transport t =
        connector(new Secret("wrong-" + SUDO_PASSWORD), null).open(host("target1", vars))) {
      ExecResult r = t.exec(ExecRequest.builder("id -u").become(root).build());
      assertThat(r.exitCode()).isNotZero();
      assertThat(r.stdoutText() + r.stderrText()).doesNotContain(SUDO_PASSWORD);
    }
    // A NOPASSWD user with a sudo password set: the password line never reaches the command.
    try (Transport t = connector(new Secret(SUDO_PASSWORD), null).open(host("target1", Map.of()))) {
      ExecResult cat =
          t.exec(
              ExecRequest.builder("cat")
                  .stdin("only this".getBytes(StandardCharsets.UTF_8))
                  .become(root)
                  .build());
      assertThat(cat.exitCode()).isZero();
      assertThat(cat.stdoutText()).isEqualTo("only this");
    }
  }

  @Test
  void passwordLoginWithAnsiblePassword() {
    direct.exec(
        "sh",
        "-c",
        "echo 'runbook:"
            + LOGIN_PASSWORD
            + "' | chpasswd"
            + " && sed -i -e 's/^AuthenticationMethods .*/AuthenticationMethods any/'"
            + " -e 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config.d/runbook.conf"
            + " && kill -HUP 1");
    Map<String, Object> vars =
        Map.of(
            "ansible_host",
            "127.0.0.1",
            "ansible_port",
            direct.port(),
            "ansible_password",
            LOGIN_PASSWORD,
            "ansible_ssh_common_args",
            "-o PubkeyAuthentication=no");
    TransportException last = null;
    for (int attempt = 0; attempt < 20; attempt++) { // sshd re-executes itself on SIGHUP
      try (SshTransport t = (SshTransport) connector().open(host("direct", vars))) {
        assertThat(t.loginMethod()).isEqualTo("password (ansible_password)");
        assertThat(t.exec(ExecRequest.builder("id -un").build()).stdoutText().strip())
            .isEqualTo("runbook");
        return;
      } catch (TransportException e) {
        last = e;
        sleep(250);
      }
    }
    throw last;
  }

  @Test
  void doctorSaysHowEachHostIsReachedAndWhatToFix() throws Exception {
    target1.exec(
        "sh",
        "-c",
        "id pwuser >/dev/null 2>&1 || (useradd -m -s /bin/bash pwuser"
            + " && echo 'pwuser:"
            + SUDO_PASSWORD
            + "' | chpasswd"
            + " && echo 'pwuser ALL=(ALL) ALL' > /etc/sudoers.d/pwuser && chmod 440 /etc/sudoers.d/pwuser"
            + " && install -d -m 700 -o pwuser -g pwuser /home/pwuser/.ssh"
            + " && cp /home/runbook/.ssh/authorized_keys /home/pwuser/.ssh/ && chown pwuser /home/pwuser/.ssh/authorized_keys)");
    Path inventory = dir.resolve("doctor.yml");
    Files.writeString(
        inventory,
        """
        all:
          hosts:
            target1: {}
            viaagent: {ansible_host: agent-target1}
            sudopw: {ansible_host: target1, ansible_user: pwuser, ansible_become: true, ansible_become_password: %s}
            sudonopw: {ansible_host: target1, ansible_user: pwuser, ansible_become: true}
            behinddead: {ansible_host: target1, ansible_ssh_common_args: '-o ProxyJump=deadbastion'}
            stranger: {ansible_host: target1, ansible_ssh_common_args: '-o UserKnownHostsFile=%s'}
        """
            .formatted(SUDO_PASSWORD, dir.resolve("empty_known_hosts")));
    Run doctor = Cli.run("doctor", "-i", inventory.toString(), "--ssh-config", config.toString());
    String text = doctor.out();
    assertThat(doctor.code()).as(doctor.all()).isEqualTo(2);
    assertThat(text)
        .contains("target1: ready")
        .contains(
            "path:     bastion (runbook@127.0.0.1:"
                + bastion.port()
                + ") -> target1 (runbook@target1:22)")
        .contains("login:    key file " + TestKeys.shared().privateKey())
        .contains("host key: known")
        .contains("sudo:     works without a password (as root)")
        .contains("docker:   not reachable")
        .contains("viaagent: ready")
        .contains("login:    agent key encrypted@test")
        .contains("sudopw: ready")
        .contains("sudo:     works with the sudo password (as root)")
        .contains("sudonopw: NOT READY")
        .contains("sudo:     FIX: does not work (as root")
        .contains("behinddead: NOT READY")
        .contains("jump host deadbastion")
        .contains("stranger: NOT READY")
        .contains("host key: FIX: unknown")
        .contains("ssh-keyscan -p 22 target1")
        .contains("3 of 6 host(s) ready.")
        .doesNotContain(SUDO_PASSWORD);
    assertThat(doctor.err()).doesNotContain(SUDO_PASSWORD);

    Files.writeString(
        inventory,
        """
        all:
          hosts:
            target1: {}
            socks: {ansible_host: target1, ansible_ssh_common_args: '-o ProxyCommand="nc -x proxy:1080 %h %p"'}
        """);
    Run socks =
        Cli.run(
            "doctor",
            "-i",
            inventory.toString(),
            "--ssh-config",
            config.toString(),
            "--limit",
            "socks");
    assertThat(socks.code()).isEqualTo(4);
    assertThat(socks.out())
        .contains("socks: NOT READY")
        .contains("host 'socks'")
        .contains("ProxyCommand 'nc -x proxy:1080 %h %p' cannot be honoured")
        .doesNotContain("target1");
  }

  @Test
  void theSampleUpgradeThroughTheBastion() throws Exception {
    Path inventory = dir.resolve("sample.yml");
    Files.writeString(
        inventory,
        """
        all:
          children:
            sample:
              vars:
                mode: binary
                app_dir: /home/runbook/sample-bastion
                port: 8090
                session_secret: fleet-session-secret-0123456789
                sudo_mode_secret: fleet-sudo-secret-0123456789
                connection_initiation_secret: fleet-connection-secret-0123456789
              hosts:
                target1: {}
                far: {ansible_host: target2, ansible_ssh_common_args: '-J bastion,hop2'}
        """);
    Path runbooks = SampleRuns.REPO.resolve("runbooks");
    Path state = dir.resolve("state");
    for (String runbook : List.of("install-sample.yaml", "upgrade-v2.yaml")) {
      Run run =
          Cli.runMerged(
              "apply",
              runbooks.resolve(runbook).toString(),
              "-i",
              inventory.toString(),
              "--ssh-config",
              config.toString(),
              "--state-dir",
              state.toString(),
              "--yes");
      assertThat(run.code()).as(runbook + ": " + run.out()).isZero();
    }
    for (SshHost h : List.of(target1, target2)) {
      assertThat(SampleRuns.health(h, 8090)).as(h.name()).isEqualTo("2.0.0");
      h.exec(
          "sh",
          "-c",
          "/home/runbook/sample-bastion/current/sampledctl stop /home/runbook/sample-bastion || true");
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void run(Map<String, String> env, String... cmd)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(new ArrayList<>(List.of(cmd)))
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
