package io.runbook.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How to reach one host over SSH; built from the host's inventory variables and the command-line
 * options.
 *
 * @param name the inventory name of the host, for messages
 * @param host address or DNS name ({@code ansible_host})
 * @param port TCP port ({@code ansible_port}); 0 means 22
 * @param user login user ({@code ansible_user}); null means the controller's user
 * @param privateKey {@code ansible_ssh_private_key_file}, or null for the user's default keys
 *     ({@code ~/.ssh/id_ed25519}, {@code id_ecdsa}, {@code id_rsa})
 * @param knownHosts the {@code known_hosts} file to verify (and, under {@link
 *     HostKeyPolicy#ACCEPT_NEW}, record) host keys; null means {@code ~/.ssh/known_hosts}
 * @param hostKeyPolicy what to do with an unknown host key; null means {@link HostKeyPolicy#STRICT}
 * @param connectTimeout how long to wait for TCP, the SSH handshake and each protocol reply while
 *     connecting; null means {@link #DEFAULT_CONNECT_TIMEOUT}
 * @param moreKnownHosts further known_hosts files that vouch for keys but are never written to
 *     (UserKnownHostsFile after the first, GlobalKnownHostsFile)
 * @param auth keys, agent and passwords beyond {@code privateKey}
 * @param via the jump host this host is reached through (ProxyJump), itself possibly reached
 *     through another; null for a direct connection
 */
public record SshSettings(
    String name,
    String host,
    int port,
    String user,
    Path privateKey,
    Path knownHosts,
    HostKeyPolicy hostKeyPolicy,
    Duration connectTimeout,
    List<Path> moreKnownHosts,
    SshAuth auth,
    SshSettings via) {

  public static final int DEFAULT_PORT = 22;
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  public SshSettings {
    if (host == null || host.isBlank()) throw new IllegalArgumentException("no host address");
    if (port < 0 || port > 65535) throw new IllegalArgumentException("bad port " + port);
    port = port == 0 ? DEFAULT_PORT : port;
    name = name == null || name.isBlank() ? host : name;
    user = user == null || user.isBlank() ? System.getProperty("user.name") : user;
    knownHosts = knownHosts == null ? defaultKnownHosts() : knownHosts;
    hostKeyPolicy = hostKeyPolicy == null ? HostKeyPolicy.STRICT : hostKeyPolicy;
    connectTimeout =
        connectTimeout == null || connectTimeout.isZero() || connectTimeout.isNegative()
            ? DEFAULT_CONNECT_TIMEOUT
            : connectTimeout;
    moreKnownHosts = moreKnownHosts == null ? List.of() : List.copyOf(moreKnownHosts);
    auth = auth == null ? SshAuth.KEYS_ONLY : auth;
  }

  /** A direct connection with the given key (or the default keys), no agent and no password. */
  public SshSettings(
      String name,
      String host,
      int port,
      String user,
      Path privateKey,
      Path knownHosts,
      HostKeyPolicy hostKeyPolicy,
      Duration connectTimeout) {
    this(
        name,
        host,
        port,
        user,
        privateKey,
        knownHosts,
        hostKeyPolicy,
        connectTimeout,
        List.of(),
        null,
        null);
  }

  /** The jump hosts, first hop first; empty for a direct connection. */
  public List<SshSettings> jumps() {
    ArrayList<SshSettings> hops = new ArrayList<>();
    for (SshSettings h = via; h != null; h = h.via) hops.add(0, h);
    return List.copyOf(hops);
  }

  public static Path sshDir() {
    return Path.of(System.getProperty("user.home"), ".ssh");
  }

  public static Path defaultKnownHosts() {
    return sshDir().resolve("known_hosts");
  }

  /** {@code web1 (deploy@10.0.0.5:22)}, and {@code via bastion (...)} for each jump host. */
  public String describe() {
    return name
        + " ("
        + user
        + "@"
        + host
        + ":"
        + port
        + ")"
        + (via == null ? "" : " via " + via.describe());
  }
}
