package io.runbook.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.LoggerFactory;
import net.schmizz.sshj.common.Message;
import net.schmizz.sshj.common.SSHException;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.userauth.AuthParams;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;
import net.schmizz.sshj.userauth.method.AuthKeyboardInteractive;
import net.schmizz.sshj.userauth.method.AuthMethod;
import net.schmizz.sshj.userauth.method.AuthPassword;
import net.schmizz.sshj.userauth.method.AuthPublickey;
import net.schmizz.sshj.userauth.method.PasswordResponseProvider;
import net.schmizz.sshj.userauth.password.PasswordFinder;
import net.schmizz.sshj.userauth.password.Resource;

/**
 * How a host is logged in to, worked out once per transport so that a missing, unreadable or
 * undecryptable key is reported before any connection, not as a vague auth failure. The order is
 * OpenSSH's: agent keys that match an identity file, the agent's other keys (unless
 * IdentitiesOnly), the identity files the agent does not hold, then the password.
 */
final class SshKeys {
  /** The keys OpenSSH tries when none is configured, in its order (DSA is long dead). */
  private static final List<String> DEFAULT_NAMES = List.of("id_rsa", "id_ecdsa", "id_ed25519");

  private final List<String> sources;
  private final List<AuthMethod> methods;
  private final AtomicReference<String> lastTried = new AtomicReference<>();

  private SshKeys(List<String> labels, List<AuthMethod> methods) {
    this.sources = List.copyOf(new LinkedHashSet<>(labels));
    List<AuthMethod> tracked = new ArrayList<>();
    for (int i = 0; i < methods.size(); i++)
      tracked.add(new Tracked(methods.get(i), labels.get(i), lastTried));
    this.methods = List.copyOf(tracked);
  }

  /**
   * What is offered, in order, for messages: {@code agent key deploy@ci}, {@code key file /x/id}...
   */
  List<String> sources() {
    return sources;
  }

  List<AuthMethod> methods() {
    return methods;
  }

  /** The method the last login tried, which after a successful login is the one that worked. */
  String used() {
    return lastTried.get();
  }

  /**
   * @param loader any client: sshj parses key files through a client's configured key formats
   */
  static SshKeys load(SshSettings settings, SSHClient loader) {
    SshAuth auth = settings.auth();
    List<String> sources = new ArrayList<>();
    List<AuthMethod> methods = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    if (settings.privateKey() != null) files.add(settings.privateKey());
    boolean defaults = auth.identityFiles().isEmpty() && settings.privateKey() == null;
    if (defaults) DEFAULT_NAMES.forEach(n -> files.add(SshSettings.sshDir().resolve(n)));
    else files.addAll(auth.identityFiles());

    if (auth.publicKey()) {
      List<SshAgent.Identity> held = agentKeys(auth.agent());
      Set<String> offered = new LinkedHashSet<>();
      // Agent keys matching an identity file first, in the files' order.
      for (Path f : files) {
        byte[] pub = publicBlob(f);
        if (pub == null) continue;
        for (SshAgent.Identity id : held) {
          if (Arrays.equals(id.blob(), pub) && offered.add(b64(id.blob()))) {
            methods.add(new AgentAuth(auth.agent(), id));
            sources.add("agent key " + id.comment() + " (" + f + ")");
          }
        }
      }
      if (!auth.identitiesOnly()) {
        for (SshAgent.Identity id : held) {
          if (offered.add(b64(id.blob()))) {
            methods.add(new AgentAuth(auth.agent(), id));
            sources.add("agent key " + id.comment());
          }
        }
      }
      for (Path f : files) {
        boolean explicit = f.equals(settings.privateKey());
        byte[] pub = publicBlob(f);
        if (pub != null && offered.contains(b64(pub))) continue; // the agent signs with it
        if (!Files.exists(f)) {
          if (explicit)
            throw new TransportException(
                settings.describe(), "private key " + f + " does not exist" + hint(settings));
          continue; // ssh skips configured keys that are not there, and so do we
        }
        if (!Files.isRegularFile(f) || !Files.isReadable(f)) {
          if (explicit) {
            throw new TransportException(
                settings.describe(),
                "cannot read private key "
                    + f
                    + hint(settings)
                    + ": check that it is a file and that this user may read it");
          }
          skipped.add(f + " (not readable)");
          continue;
        }
        try {
          methods.add(new AuthPublickey(parse(f, loader, auth.passphrases())));
          sources.add("key file " + f);
        } catch (IOException | RuntimeException e) {
          String why =
              e instanceof NoPassphrase
                  ? e.getMessage()
                  : "cannot use it: "
                      + e.getMessage()
                      + " (a wrong passphrase, or not an OpenSSH, PEM or PKCS#8 private key)";
          if (explicit)
            throw new TransportException(
                settings.describe(), "private key " + f + hint(settings) + ": " + why, e);
          skipped.add(f + " (" + why + ")");
        }
      }
    }
    if (auth.password() != null && auth.passwordAuth()) {
      PasswordFinder pw = finder(auth.password());
      methods.add(new AuthPassword(pw));
      methods.add(new AuthKeyboardInteractive(new PasswordResponseProvider(pw)));
      sources.add("password (" + auth.passwordSource() + ")");
      sources.add("password (" + auth.passwordSource() + ")");
    }
    if (methods.isEmpty()) {
      throw new TransportException(
          settings.describe(),
          "nothing to log in with: no key in ssh-agent"
              + (auth.agent() == null ? " (SSH_AUTH_SOCK is not set)" : "")
              + ", no usable key file"
              + (skipped.isEmpty() ? "" : " (" + String.join("; ", skipped) + ")")
              + ", no password. Set ansible_ssh_private_key_file or IdentityFile in ssh_config, add a key to"
              + " ssh-agent (ssh-add), or create "
              + SshSettings.sshDir().resolve("id_ed25519")
              + " (ssh-keygen -t ed25519)");
    }
    return new SshKeys(sources, methods);
  }

  private static String hint(SshSettings s) {
    return " (ansible_ssh_private_key_file of " + s.name() + ")";
  }

  private static List<SshAgent.Identity> agentKeys(SshAgent agent) {
    if (agent == null) return List.of();
    try {
      return agent.identities();
    } catch (IOException | RuntimeException e) {
      // ssh goes on without an agent it cannot reach; so do we, and the login failure names the
      // agent.
      return List.of();
    }
  }

  /**
   * The public key blob of a key file, from {@code FILE.pub} (which needs no passphrase), or null.
   */
  static byte[] publicBlob(Path key) {
    Path pub = Path.of(key + ".pub");
    try {
      if (!Files.isReadable(pub)) return null;
      String[] parts = Files.readString(pub, StandardCharsets.UTF_8).strip().split("\\s+", -1);
      return parts.length >= 2 ? Base64.getDecoder().decode(parts[1]) : null;
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  private static String b64(byte[] blob) {
    return Base64.getEncoder().encodeToString(blob);
  }

  /** A key needs a passphrase nobody gave. */
  private static final class NoPassphrase extends IOException {
    NoPassphrase(Path file) {
      super(
          "it is passphrase-protected and no passphrase was given: add it to ssh-agent (ssh-add "
              + file
              + "), or give the passphrase with --key-passphrase-file or RUNBOOK_KEY_PASSPHRASE");
    }
  }

  private static KeyProvider parse(Path file, SSHClient loader, KeyPassphrases passphrases)
      throws IOException {
    boolean[] asked = {false};
    Secret[] given = {null};
    KeyProvider provider =
        loader.loadKeys(
            file.toString(),
            new PasswordFinder() {
              @Override
              public char[] reqPassword(Resource<?> resource) {
                asked[0] = true;
                given[0] = passphrases.passphrase(file);
                return given[0] == null ? null : given[0].reveal().toCharArray();
              }

              @Override
              public boolean shouldRetry(Resource<?> resource) {
                return false;
              }
            });
    try {
      provider
          .getPrivate(); // sshj parses lazily; force it now so that a bad key fails here, clearly
    } catch (IOException | RuntimeException e) {
      if (asked[0] && given[0] == null) throw new NoPassphrase(file);
      throw e;
    }
    return provider;
  }

  private static PasswordFinder finder(Secret secret) {
    return new PasswordFinder() {
      @Override
      public char[] reqPassword(Resource<?> resource) {
        return secret.reveal().toCharArray();
      }

      @Override
      public boolean shouldRetry(Resource<?> resource) {
        return false;
      }
    };
  }

  /** Remembers the last method sshj tried: after a successful login, the one that worked. */
  private record Tracked(AuthMethod delegate, String label, AtomicReference<String> last)
      implements AuthMethod {
    @Override
    public String getName() {
      return delegate.getName();
    }

    @Override
    public void init(AuthParams params) {
      delegate.init(params);
    }

    @Override
    public void request() throws UserAuthException, net.schmizz.sshj.transport.TransportException {
      last.set(label);
      delegate.request();
    }

    @Override
    public boolean shouldRetry() {
      return delegate.shouldRetry();
    }

    @Override
    public void handle(Message msg, SSHPacket buf) throws SSHException {
      delegate.handle(msg, buf);
    }

    @Override
    public void setLoggerFactory(LoggerFactory loggerFactory) {
      delegate.setLoggerFactory(loggerFactory);
    }
  }
}
