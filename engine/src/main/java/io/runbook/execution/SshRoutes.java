package io.runbook.execution;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.Host;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.OpenSshConfig;
import io.runbook.transport.Secret;
import io.runbook.transport.SshAgent;
import io.runbook.transport.SshAuth;
import io.runbook.transport.SshSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Works out how to reach an SSH host, as {@code ssh} would reach it when Ansible runs it: the
 * host's address ({@code ansible_host}, else its name) is resolved by the controller's OpenSSH
 * client ({@code ssh -G}) with, in this order (the first value of an option wins, as in ssh):
 *
 * <ol>
 *   <li>runbook's own options given on the command line ({@code --known-hosts}, {@code
 *       --accept-new-host-keys}, {@code --connect-timeout});
 *   <li>the inventory's {@code ansible_user} and {@code ansible_port};
 *   <li>{@code ansible_ssh_common_args}, then {@code ansible_ssh_extra_args};
 *   <li>ssh_config ({@code ~/.ssh/config} and {@code /etc/ssh/ssh_config}, or {@code --ssh-config
 *       FILE});
 *   <li>OpenSSH's defaults, except ConnectTimeout, which is runbook's 10 s.
 * </ol>
 *
 * {@code ansible_ssh_private_key_file} is offered before ssh_config's IdentityFiles. Jump hosts
 * (ProxyJump, {@code -J}, or a ProxyCommand that is {@code ssh -W %h:%p HOST}) are resolved the
 * same way, each by its own ssh_config entry, as OpenSSH does. Anything that would change how the
 * connection is made and that runbook cannot do is an error naming the host and the option, never
 * ignored: a silent direct connection would bypass a bastion.
 */
public final class SshRoutes {
  private static final int MAX_HOPS = 8;
  private static final List<String> DEFAULT_IDENTITIES =
      List.of(
          "~/.ssh/id_rsa",
          "~/.ssh/id_ecdsa",
          "~/.ssh/id_ecdsa_sk",
          "~/.ssh/id_ed25519",
          "~/.ssh/id_ed25519_sk",
          "~/.ssh/id_xmss",
          "~/.ssh/id_dsa");
  private static final List<String> UNSUPPORTED =
      List.of(
          "certificatefile",
          "hostkeyalias",
          "bindaddress",
          "bindinterface",
          "proxyusefdpass yes",
          "requesttty force",
          "remotecommand",
          "localcommand");

  private final ConnectionSettings settings;
  private final OpenSshConfig config;
  private volatile Boolean sshInstalled;
  // Jump hosts are shared by many targets: each hop is resolved once (one ssh -G), not once per
  // target.
  private final Map<String, SshSettings> hops = new ConcurrentHashMap<>();

  public SshRoutes(ConnectionSettings settings) {
    this.settings = settings;
    this.config = new OpenSshConfig(settings.sshConfig());
  }

  /**
   * How to reach a host over SSH, from its inventory variables and the ssh_config files.
   *
   * @throws RunbookException ({@link ErrorCode#INVALID_INPUT}) naming the host and the option
   */
  public SshSettings resolve(Host host) {
    String where = host.location() + ": host '" + host.name() + "': ";
    try {
      List<String> inventoryArgs = new ArrayList<>();
      if (host.user() != null) inventoryArgs.addAll(List.of("-o", "User=" + host.user()));
      if (host.port() != SshSettings.DEFAULT_PORT || host.vars().containsKey("ansible_port")) {
        inventoryArgs.addAll(List.of("-o", "Port=" + host.port()));
      }
      List<String> extra = new ArrayList<>();
      for (String var : List.of("ansible_ssh_common_args", "ansible_ssh_extra_args")) {
        String v = string(host, var);
        if (v == null || v.isBlank()) continue;
        try {
          extra.addAll(ShellWords.split(v));
        } catch (IllegalArgumentException e) {
          throw new Problem(var + " '" + v + "': " + e.getMessage());
        }
      }
      Secret password =
          Secret.of(
              firstString(host, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password"));
      String passwordSource = password != null ? "ansible_password" : "--ask-pass";
      if (password == null) password = settings.password();
      Secret become =
          Secret.of(
              firstString(
                  host, "ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"));
      if (become == null) become = settings.becomePassword();

      if (!sshInstalled()) {
        if (!extra.isEmpty() || config.hasConfigFile()) {
          throw new Problem(
              (extra.isEmpty() ? config.source().describe() : "ansible_ssh_common_args/extra_args")
                  + " can only be honoured with the OpenSSH client (ssh -G resolves them), which is not installed"
                  + " here: install openssh-client"
                  + (extra.isEmpty() ? ", or pass --ssh-config none" : ""));
        }
        return direct(host, password, passwordSource, become);
      }
      List<String> args = new ArrayList<>(controllerArgs());
      args.addAll(inventoryArgs);
      args.addAll(extra);
      return settingsFor(
          host.name(),
          host.address(),
          args,
          host.privateKey().orElse(null),
          password,
          passwordSource,
          become,
          null,
          false,
          0);
    } catch (Problem p) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, where + p.getMessage());
    }
  }

  /** How runbook connected before it read ssh_config; used when no OpenSSH client is installed. */
  private SshSettings direct(Host host, Secret password, String passwordSource, Secret become) {
    Path kh =
        settings.knownHosts() != null ? settings.knownHosts() : SshSettings.defaultKnownHosts();
    SshAuth auth =
        new SshAuth(
            List.of(),
            false,
            SshAgent.fromEnvironment(),
            settings.passphrases(),
            password,
            passwordSource,
            become,
            true,
            true);
    return new SshSettings(
        host.name(),
        host.address(),
        host.port(),
        host.user(),
        host.privateKey().orElse(null),
        kh,
        settings.acceptNewHostKeys() ? HostKeyPolicy.ACCEPT_NEW : HostKeyPolicy.STRICT,
        settings.connectTimeout(),
        List.of(),
        auth,
        null);
  }

  private boolean sshInstalled() {
    Boolean b = sshInstalled;
    if (b == null) sshInstalled = b = config.available();
    return b;
  }

  /** runbook's command-line options, which win over everything, as ssh's own -o options do. */
  private List<String> controllerArgs() {
    List<String> a = new ArrayList<>();
    if (settings.knownHosts() != null)
      a.addAll(List.of("-o", "UserKnownHostsFile=" + settings.knownHosts()));
    if (settings.acceptNewHostKeys()) a.addAll(List.of("-o", "StrictHostKeyChecking=accept-new"));
    if (settings.connectTimeout() != null) {
      a.addAll(
          List.of("-o", "ConnectTimeout=" + Math.max(1, settings.connectTimeout().toSeconds())));
    }
    return a;
  }

  /**
   * @param forcedVia the previous hop of a ProxyJump list (the first hop uses its own ssh_config)
   * @param forced whether {@code forcedVia} replaces this host's own ProxyJump/ProxyCommand
   */
  private SshSettings settingsFor(
      String name,
      String alias,
      List<String> args,
      Path explicitKey,
      Secret password,
      String passwordSource,
      Secret become,
      SshSettings forcedVia,
      boolean forced,
      int depth)
      throws Problem {
    if (depth > MAX_HOPS)
      throw new Problem("more than " + MAX_HOPS + " jump hosts: a ProxyJump loop?");
    OpenSshConfig.Options o;
    try {
      o = config.resolve(alias, args);
    } catch (OpenSshConfig.ConfigException e) {
      throw new Problem(
          (depth == 0 ? "" : "jump host '" + name + "': ")
              + "ssh -G "
              + String.join(" ", args)
              + (args.isEmpty() ? "" : " ")
              + alias
              + " failed ("
              + config.source().describe()
              + "): "
              + e.getMessage());
    }
    String prefix = depth == 0 ? "" : "jump host '" + name + "': ";
    for (String u : UNSUPPORTED) {
      String[] kv = u.split(" ", 2);
      String v = o.get(kv[0]);
      if (v != null && (kv.length == 1 || v.equalsIgnoreCase(kv[1]))) {
        throw new Problem(
            prefix
                + "ssh_config option "
                + kv[0]
                + " "
                + v
                + " is not supported by runbook;"
                + " remove it for this host (a Host block of its own) or use --ssh-config");
      }
    }
    String hostname = require(o, "hostname", prefix);
    String user = require(o, "user", prefix);
    int port;
    try {
      port = Integer.parseInt(require(o, "port", prefix));
    } catch (NumberFormatException e) {
      throw new Problem(prefix + "bad Port " + o.get("port"));
    }
    Tokens tokens = new Tokens(hostname, port, user, alias);

    List<String> files = o.all("identityfile");
    List<Path> identities = new ArrayList<>();
    if (!files.equals(DEFAULT_IDENTITIES)) {
      for (String f : files) identities.add(tokens.path(f, prefix + "IdentityFile"));
    }
    List<Path> known = new ArrayList<>();
    for (String f : words(o.get("userknownhostsfile")))
      known.add(tokens.path(f, prefix + "UserKnownHostsFile"));
    if (known.isEmpty() || o.get("userknownhostsfile").equalsIgnoreCase("none"))
      known = List.of(Path.of("/dev/null"));
    List<Path> more = new ArrayList<>(known.subList(1, known.size()));
    for (String f : words(o.get("globalknownhostsfile"))) {
      if (!f.equalsIgnoreCase("none")) more.add(tokens.path(f, prefix + "GlobalKnownHostsFile"));
    }
    String strict = String.valueOf(o.get("stricthostkeychecking")).toLowerCase(Locale.ROOT);
    // "no" would also accept a changed key; runbook never does, so it is taken as accept-new.
    HostKeyPolicy policy =
        switch (strict) {
          case "accept-new", "false", "no", "off" -> HostKeyPolicy.ACCEPT_NEW;
          default -> HostKeyPolicy.STRICT; // yes, ask (nobody to ask)
        };
    Duration timeout = SshSettings.DEFAULT_CONNECT_TIMEOUT;
    String ct = o.get("connecttimeout");
    if (ct != null && !ct.equals("none")) {
      try {
        timeout = Duration.ofSeconds(Long.parseLong(ct));
      } catch (NumberFormatException e) {
        throw new Problem(prefix + "bad ConnectTimeout " + ct);
      }
    }
    SshAgent agent = agent(o.get("identityagent"), tokens, prefix);
    SshAuth auth =
        new SshAuth(
            identities,
            yes(o.get("identitiesonly")),
            agent,
            settings.passphrases(),
            password,
            passwordSource,
            become,
            yes(o.get("pubkeyauthentication")),
            yes(o.get("passwordauthentication")));

    SshSettings via = forced ? forcedVia : jumps(o, depth, prefix);
    return new SshSettings(
        name, hostname, port, user, explicitKey, known.get(0), policy, timeout, more, auth, via);
  }

  /**
   * The last hop of ProxyJump (whose own via leads back to the first), or of an {@code ssh -W}
   * ProxyCommand.
   */
  private SshSettings jumps(OpenSshConfig.Options o, int depth, String prefix) throws Problem {
    String pj = o.get("proxyjump");
    String pc = o.get("proxycommand");
    if (pj != null && !pj.equalsIgnoreCase("none")) {
      SshSettings previous = null;
      String[] specs = pj.split(",", -1);
      for (int i = 0; i < specs.length; i++) {
        Jump j = Jump.parse(specs[i].strip(), prefix);
        List<String> args = new ArrayList<>(controllerArgs());
        if (j.user() != null) args.addAll(List.of("-l", j.user()));
        if (j.port() > 0) args.addAll(List.of("-p", String.valueOf(j.port())));
        if (i > 0) args.addAll(List.of("-o", "ProxyJump=none"));
        previous = hop(j.spec(), j.host(), args, previous, i > 0, depth + 1);
      }
      return previous;
    }
    if (pc != null && !pc.equalsIgnoreCase("none")) {
      List<String> words;
      try {
        words = ShellWords.split(pc);
      } catch (IllegalArgumentException e) {
        throw new Problem(prefix + "ProxyCommand '" + pc + "': " + e.getMessage());
      }
      SshW w = SshW.parse(words);
      if (w == null) {
        throw new Problem(
            prefix
                + "ProxyCommand '"
                + pc
                + "' cannot be honoured: runbook connects through"
                + " jump hosts itself and understands only ProxyJump, -J, and a ProxyCommand of the form"
                + " 'ssh [-l USER] [-p PORT] [-i KEY] [-o OPTION] -W %h:%p HOST'. Use ProxyJump instead; runbook"
                + " never falls back to a direct connection");
      }
      List<String> args = new ArrayList<>(controllerArgs());
      args.addAll(w.args());
      return hop(w.host(), w.host(), args, null, false, depth + 1);
    }
    return null;
  }

  private SshSettings hop(
      String name, String alias, List<String> args, SshSettings via, boolean forced, int depth)
      throws Problem {
    String key =
        name
            + "\0"
            + alias
            + "\0"
            + String.join("\0", args)
            + "\0"
            + (via == null ? "" : System.identityHashCode(via) + via.describe());
    SshSettings cached = hops.get(key);
    if (cached != null) return cached;
    SshSettings s = settingsFor(name, alias, args, null, null, null, null, via, forced, depth);
    hops.putIfAbsent(key, s);
    return hops.get(key);
  }

  private SshAgent agent(String identityAgent, Tokens tokens, String prefix) throws Problem {
    if (identityAgent == null || identityAgent.equals("SSH_AUTH_SOCK"))
      return SshAgent.fromEnvironment();
    if (identityAgent.equalsIgnoreCase("none")) return null;
    if (identityAgent.startsWith("$")) {
      String v = System.getenv(identityAgent.substring(1));
      return v == null || v.isBlank() ? null : new SshAgent(Path.of(v));
    }
    return new SshAgent(tokens.path(identityAgent, prefix + "IdentityAgent"));
  }

  private static String require(OpenSshConfig.Options o, String key, String prefix) throws Problem {
    String v = o.get(key);
    if (v == null || v.isBlank()) throw new Problem(prefix + "ssh -G printed no " + key);
    return v;
  }

  private static boolean yes(String v) {
    return v != null && (v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("true"));
  }

  private static List<String> words(String v) {
    return v == null || v.isBlank() ? List.of() : List.of(v.strip().split("\\s+"));
  }

  private static String string(Host host, String var) {
    Object v = host.vars().get(var);
    return v == null ? null : String.valueOf(v);
  }

  private static String firstString(Host host, String... vars) {
    for (String var : vars) {
      String v = string(host, var);
      if (v != null) return v;
    }
    return null;
  }

  /** One hop of ProxyJump: {@code [user@]host[:port]} or {@code ssh://[user@]host[:port]}. */
  record Jump(String spec, String user, String host, int port) {
    static Jump parse(String spec, String prefix) throws Problem {
      String s = spec.startsWith("ssh://") ? spec.substring(6) : spec;
      if (s.endsWith("/")) s = s.substring(0, s.length() - 1);
      String user = null;
      int at = s.lastIndexOf('@');
      if (at >= 0) {
        user = s.substring(0, at);
        s = s.substring(at + 1);
      }
      int port = 0;
      String host = s;
      if (s.startsWith("[")) {
        int close = s.indexOf(']');
        if (close < 0) throw new Problem(prefix + "bad ProxyJump host '" + spec + "'");
        host = s.substring(1, close);
        if (s.length() > close + 1 && s.charAt(close + 1) == ':')
          port = port(s.substring(close + 2), spec, prefix);
      } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
        host = s.substring(0, s.indexOf(':'));
        port = port(s.substring(s.indexOf(':') + 1), spec, prefix);
      }
      if (host.isBlank()) throw new Problem(prefix + "bad ProxyJump host '" + spec + "'");
      return new Jump(spec, user, host, port);
    }

    private static int port(String p, String spec, String prefix) throws Problem {
      try {
        return Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw new Problem(prefix + "bad port in ProxyJump host '" + spec + "'");
      }
    }
  }

  /** A ProxyCommand {@code ssh ... -W %h:%p HOST}: the same as a jump through HOST. */
  record SshW(String host, List<String> args) {
    private static final String FLAGS = "qTNxaACv46n";

    static SshW parse(List<String> words) {
      if (words.isEmpty()) return null;
      String cmd = words.get(0);
      if (!(cmd.equals("ssh") || cmd.endsWith("/ssh"))) return null;
      List<String> args = new ArrayList<>();
      String host = null;
      boolean forward = false;
      for (int i = 1; i < words.size(); i++) {
        String w = words.get(i);
        if (w.equals("-W")) {
          if (i + 1 >= words.size()) return null;
          String t = words.get(++i);
          if (!t.equals("%h:%p") && !t.equals("[%h]:%p")) return null;
          forward = true;
        } else if (w.equals("-l")
            || w.equals("-p")
            || w.equals("-o")
            || w.equals("-i")
            || w.equals("-J")) {
          if (i + 1 >= words.size()) return null;
          args.add(w);
          args.add(words.get(++i));
        } else if (w.startsWith("-")
            && w.length() > 1
            && w.substring(1).chars().allMatch(c -> FLAGS.indexOf(c) >= 0)) {
          // quiet, no tty, no command...: nothing to do with where the connection goes
        } else if (!w.startsWith("-") && host == null) {
          host = w;
        } else {
          return null;
        }
      }
      return forward && host != null ? new SshW(host, args) : null;
    }
  }

  /** OpenSSH's % tokens in file names (ssh_config TOKENS) that runbook can expand. */
  private record Tokens(String hostname, int port, String user, String alias) {
    Path path(String value, String option) throws Problem {
      String v = value;
      if (v.equals("~")) v = home();
      else if (v.startsWith("~/")) v = home() + v.substring(1);
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        if (c != '%' || i + 1 >= v.length()) {
          sb.append(c);
          continue;
        }
        char t = v.charAt(++i);
        switch (t) {
          case '%' -> sb.append('%');
          case 'd' -> sb.append(home());
          case 'u' -> sb.append(System.getProperty("user.name"));
          case 'r' -> sb.append(user);
          case 'h' -> sb.append(hostname);
          case 'p' -> sb.append(port);
          case 'n' -> sb.append(alias);
          default -> throw new Problem(option + " " + value + ": runbook cannot expand %" + t);
        }
      }
      return Path.of(sb.toString());
    }

    private static String home() {
      return System.getProperty("user.home");
    }
  }

  /** A reason this host cannot be connected to as configured. */
  static final class Problem extends Exception {
    Problem(String message) {
      super(message);
    }
  }
}
