package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.Host;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.OpenSshConfig;
import io.runbook.transport.SshSettings;
import io.runbook.yaml.Location;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How inventory variables, ansible_ssh_common_args and ssh_config resolve to {@link SshSettings},
 * on configs written here and checked against the real {@code ssh -G} of the controller's OpenSSH
 * client (installed by scripts/test-env.sh; a missing client fails these tests).
 */
class SshRoutesTest {
  @TempDir Path dir;
  private Path config;
  private static final String HOME = System.getProperty("user.home");

  @BeforeEach
  void write() throws IOException {
    Files.writeString(
        dir.resolve("included.conf"),
        """
        Host inc-*
          User from-include
          Port 2200
        """);
    config = dir.resolve("config");
    Files.writeString(
        config,
        """
        Include %s
        Host web1
          HostName 10.1.0.1
        Host web* !web9
          User deploy
          Port 2022
          IdentityFile ~/.ssh/deploy_%%r
          IdentityFile %s/keys/%%h.key
          IdentitiesOnly yes
          ProxyJump bastion
        Host web9
          User nine
        Host bastion
          HostName 192.0.2.10
          User jump
          Port 2222
          UserKnownHostsFile %s/bastion_known_hosts
          StrictHostKeyChecking accept-new
          ConnectTimeout 7
        Host deep
          ProxyJump alice@hop1:2201,hop2,ssh://bob@hop3
        Host hop1
          HostName 192.0.2.11
          ProxyJump outer
        Host hop2
          HostName 192.0.2.12
          ProxyJump ignored-because-forced
        Host viacmd
          ProxyCommand ssh -q -l carol -p 2022 -W %%h:%%p bastion
        Host netcat
          ProxyCommand nc -X 5 -x proxy:1080 %%h %%p
        Host loopa
          ProxyJump loopb
        Host loopb
          ProxyJump loopa
        Host certified
          CertificateFile ~/.ssh/id_ed25519-cert.pub
        Host *
          User everyone
          Port 22
          UserKnownHostsFile %s/known_hosts
        Match host 10.9.*
          User matched
        """
            .formatted(dir.resolve("included.conf"), dir, dir, dir));
  }

  private SshRoutes routes() {
    return new SshRoutes(
        new ConnectionSettings(
            null, false, null, new OpenSshConfig.Source(config, false), null, null, null));
  }

  private static Host host(String name, Map<String, Object> vars) {
    return new Host(
        name, new LinkedHashMap<>(vars), List.of("all"), new Location("hosts.yml", 3, 5));
  }

  /** The real ssh -G, run by the test itself. */
  private String sshG(String key, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ssh", "-G", "-F", config.toString()));
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return out.lines()
        .filter(l -> l.startsWith(key + " "))
        .map(l -> l.substring(key.length() + 1))
        .findFirst()
        .orElse(null);
  }

  @Test
  void hostPatternsNegationAndFirstValueWinAsSshGSaysForEveryHost() throws Exception {
    SshRoutes routes = routes();
    int compared = 0;
    for (String name :
        List.of("web1", "web2", "web9", "bastion", "inc-a", "10.9.0.1", "other", "deep")) {
      SshSettings s = routes.resolve(host(name, Map.of()));
      assertThat(s.host()).as(name).isEqualTo(sshG("hostname", name));
      assertThat(s.user()).as(name).isEqualTo(sshG("user", name));
      assertThat(String.valueOf(s.port())).as(name).isEqualTo(sshG("port", name));
      compared++;
    }
    assertThat(compared).isEqualTo(8);
    assertThat(routes.resolve(host("web1", Map.of())).user()).isEqualTo("deploy");
    assertThat(routes.resolve(host("web9", Map.of())).user())
        .as("!web9 excludes it")
        .isEqualTo("nine");
    assertThat(routes.resolve(host("inc-a", Map.of())).port()).as("Include").isEqualTo(2200);
    assertThat(routes.resolve(host("other", Map.of())).user())
        .as("Host * first value wins")
        .isEqualTo("everyone");
  }

  /** Small configs, each with hosts whose resolution is compared with ssh -G option by option. */
  static final List<String[]> CORPUS =
      List.of(
          new String[] {
            """
          Host db? !db9
            User dbadmin
            ProxyJump jump1,jump2
          Host db9
            ProxyJump none
          Host jump?
            HostName 198.51.100.1
            Port 2200
          """,
            "db1",
            "db9",
            "dbx",
            "db10",
            "jump1"
          },
          new String[] {
            """
          Match originalhost app-* user root
            User matched-root
          Match originalhost app-*
            User app
            Port 2022
          Host gw
            ProxyJump none
          Match all
            ProxyJump gw
          """,
            "app-1",
            "other",
            "gw"
          },
          new String[] {
            """
          Host a b c
            Port 2001
          Host b
            Port 2002
            User bee
          Host bastion.internal
            ProxyJump none
          Host *.internal
            HostName %h.example.net
            ProxyJump bastion.internal
          """,
            "a",
            "b",
            "c",
            "x.internal",
            "bastion.internal"
          });

  @Test
  void aCorpusOfConfigsResolvesAsSshGSaysOptionByOption() throws Exception {
    int compared = 0;
    for (String[] entry : CORPUS) {
      Files.writeString(config, entry[0]);
      SshRoutes routes = routes();
      for (int i = 1; i < entry.length; i++) {
        String name = entry[i];
        SshSettings s = routes.resolve(host(name, Map.of()));
        assertThat(s.host()).as(name).isEqualTo(sshG("hostname", name));
        assertThat(s.user()).as(name).isEqualTo(sshG("user", name));
        assertThat(String.valueOf(s.port())).as(name).isEqualTo(sshG("port", name));
        String jumps = sshG("proxyjump", name);
        if (jumps == null) {
          assertThat(s.via()).as(name).isNull();
        } else {
          String[] hops = jumps.split(",", -1);
          assertThat(s.via()).as(name).isNotNull();
          assertThat(s.via().name()).as(name).isEqualTo(hops[hops.length - 1]);
          assertThat(s.jumps()).as(name).hasSizeGreaterThanOrEqualTo(hops.length);
        }
        compared++;
      }
    }
    assertThat(compared).isEqualTo(13);
  }

  @Test
  void identityFilesKnownHostsTimeoutAndTokensAreMapped() {
    SshSettings web = routes().resolve(host("web2", Map.of()));
    assertThat(web.auth().identityFiles())
        .containsExactly(Path.of(HOME, ".ssh/deploy_deploy"), dir.resolve("keys/web2.key"));
    assertThat(web.auth().identitiesOnly()).isTrue();
    assertThat(web.knownHosts()).isEqualTo(dir.resolve("known_hosts"));
    assertThat(web.hostKeyPolicy()).isEqualTo(HostKeyPolicy.STRICT);
    assertThat(web.connectTimeout()).as("runbook's default").isEqualTo(Duration.ofSeconds(10));

    SshSettings bastion = web.via();
    assertThat(bastion.name()).isEqualTo("bastion");
    assertThat(bastion.host()).isEqualTo("192.0.2.10");
    assertThat(bastion.port()).isEqualTo(2222);
    assertThat(bastion.user()).isEqualTo("jump");
    assertThat(bastion.knownHosts()).isEqualTo(dir.resolve("bastion_known_hosts"));
    assertThat(bastion.hostKeyPolicy()).isEqualTo(HostKeyPolicy.ACCEPT_NEW);
    assertThat(bastion.connectTimeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(bastion.via()).isNull();
    assertThat(bastion.auth().identityFiles()).as("ssh's defaults").isEmpty();
  }

  @Test
  void severalHopsEachResolvedByItsOwnEntryTheFirstWithItsOwnJump() {
    SshSettings deep = routes().resolve(host("deep", Map.of()));
    List<SshSettings> hops = deep.jumps();
    assertThat(hops)
        .extracting(SshSettings::name)
        .containsExactly("outer", "alice@hop1:2201", "hop2", "bob@hop3"); // ssh -G drops ssh://
    assertThat(hops.get(1).host()).isEqualTo("192.0.2.11");
    assertThat(hops.get(1).user()).isEqualTo("alice");
    assertThat(hops.get(1).port()).isEqualTo(2201);
    assertThat(hops.get(2).host()).isEqualTo("192.0.2.12");
    assertThat(hops.get(3).user()).isEqualTo("bob");
    assertThat(hops.get(3).host()).isEqualTo("hop3");
    assertThat(deep.describe()).contains("via bob@hop3");
  }

  @Test
  void proxyJumpNoneInCommonArgsWinsOverSshConfig() {
    SshSettings s =
        routes().resolve(host("web2", Map.of("ansible_ssh_common_args", "-o ProxyJump=none")));
    assertThat(s.via()).isNull();
  }

  @Test
  void commonArgsJumpsAsAnsibleUsersWriteThem() {
    SshRoutes routes = routes();
    for (String args :
        List.of(
            "-o ProxyJump=bastion",
            "-J bastion",
            "-o 'ProxyJump=bastion'",
            "-o ProxyCommand=\"ssh -W %h:%p -q bastion\"",
            "-o StrictHostKeyChecking=no -J jump@bastion:2222")) {
      SshSettings s =
          routes.resolve(
              host("app1", Map.of("ansible_host", "10.2.0.7", "ansible_ssh_common_args", args)));
      assertThat(s.via()).as(args).isNotNull();
      assertThat(s.via().host()).as(args).isEqualTo("192.0.2.10");
      assertThat(s.via().port()).as(args).isEqualTo(2222);
      assertThat(s.host()).isEqualTo("10.2.0.7");
    }
    SshSettings extra =
        routes.resolve(host("app2", Map.of("ansible_ssh_extra_args", "-J bastion")));
    assertThat(extra.via().name()).isEqualTo("bastion");
  }

  @Test
  void proxyCommandSshWIsAJumpWithItsOptions() {
    SshSettings s = routes().resolve(host("viacmd", Map.of()));
    assertThat(s.via().host()).isEqualTo("192.0.2.10");
    assertThat(s.via().user()).isEqualTo("carol");
    assertThat(s.via().port()).isEqualTo(2022);
  }

  @Test
  void precedenceInventoryThenCommonArgsThenSshConfig() {
    SshRoutes routes = routes();
    SshSettings s =
        routes.resolve(
            host(
                "web2",
                Map.of(
                    "ansible_user",
                    "inv",
                    "ansible_port",
                    2345,
                    "ansible_ssh_common_args",
                    "-o User=args -o Port=3456 -o ConnectTimeout=4")));
    assertThat(s.user()).isEqualTo("inv");
    assertThat(s.port()).isEqualTo(2345);
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(4));
    SshSettings t = routes.resolve(host("web2", Map.of("ansible_ssh_common_args", "-o User=args")));
    assertThat(t.user()).isEqualTo("args");

    SshRoutes cli =
        new SshRoutes(
            new ConnectionSettings(
                dir.resolve("cli_known"),
                true,
                Duration.ofSeconds(3),
                new OpenSshConfig.Source(config, false),
                null,
                null,
                null));
    SshSettings c =
        cli.resolve(host("web2", Map.of("ansible_ssh_common_args", "-o ConnectTimeout=4")));
    assertThat(c.knownHosts()).isEqualTo(dir.resolve("cli_known"));
    assertThat(c.hostKeyPolicy()).isEqualTo(HostKeyPolicy.ACCEPT_NEW);
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.via().knownHosts())
        .as("runbook's own options reach the jump hosts")
        .isEqualTo(dir.resolve("cli_known"));
  }

  @Test
  void noConfigFileMeansOnlyInventoryAndArgs() {
    SshRoutes none =
        new SshRoutes(
            new ConnectionSettings(null, false, null, OpenSshConfig.Source.NONE, null, null, null));
    SshSettings s = none.resolve(host("web2", Map.of("ansible_host", "10.0.0.2")));
    assertThat(s.via()).isNull();
    assertThat(s.host()).isEqualTo("10.0.0.2");
    assertThat(s.knownHosts()).isEqualTo(Path.of(HOME, ".ssh/known_hosts"));
  }

  @Test
  void whatCannotBeHonouredIsAnInputErrorNamingHostAndOption() {
    SshRoutes routes = routes();
    assertInvalid(
        routes,
        host("netcat", Map.of()),
        "host 'netcat'",
        "ProxyCommand 'nc -X 5 -x proxy:1080 %h %p'",
        "never falls back to a direct connection");
    assertInvalid(
        routes,
        host("app", Map.of("ansible_ssh_common_args", "-o ProxyCommand='socat - TCP:%h:%p'")),
        "host 'app'",
        "ProxyCommand 'socat");
    assertInvalid(routes, host("certified", Map.of()), "host 'certified'", "certificatefile");
    assertInvalid(routes, host("loopa", Map.of()), "host 'loopa'", "a ProxyJump loop?");
    assertInvalid(
        routes,
        host("app", Map.of("ansible_ssh_common_args", "-o Bogus=1")),
        "host 'app'",
        "Bogus");
    assertInvalid(
        routes, host("app", Map.of("ansible_ssh_common_args", "-o 'ProxyJump=x")), "unclosed");
    // A bad jump host is named as such.
    assertInvalid(
        routes,
        host("app", Map.of("ansible_ssh_common_args", "-J netcat")),
        "host 'app'",
        "jump host 'netcat'",
        "ProxyCommand");
  }

  @Test
  void prepareReportsEveryBadHostAtOnce() {
    StandardConnector c =
        new StandardConnector(
            new ConnectionSettings(
                null, false, null, new OpenSshConfig.Source(config, false), null, null, null));
    assertThatThrownBy(
            () ->
                c.prepare(
                    List.of(
                        host("netcat", Map.of()),
                        host("web1", Map.of()),
                        host("certified", Map.of()))))
        .isInstanceOf(RunbookException.class)
        .satisfies(
            e -> assertThat(((RunbookException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessageContaining("host 'netcat'")
        .hasMessageContaining("host 'certified'")
        .hasMessageNotContaining("host 'web1'");
  }

  private static void assertInvalid(SshRoutes routes, Host h, String... parts) {
    assertThatThrownBy(() -> routes.resolve(h))
        .isInstanceOf(RunbookException.class)
        .satisfies(
            e -> {
              assertThat(((RunbookException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT);
              for (String p : parts) assertThat(e.getMessage()).contains(p);
              assertThat(e.getMessage()).startsWith("hosts.yml:3:5: ");
            });
  }
}
