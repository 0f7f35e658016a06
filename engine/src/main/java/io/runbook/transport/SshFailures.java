package io.runbook.transport;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import net.schmizz.sshj.userauth.UserAuthException;

/** Turns what sshj and the JDK throw while connecting into messages that say what to do next. */
final class SshFailures {
  private SshFailures() {}

  /**
   * Whether trying again later may help: the network or the host, not our keys or the host's
   * identity.
   */
  static boolean isTransient(IOException e, KnownHostsVerifier verifier) {
    if (verifier != null && verifier.rejection() != null) return false;
    return !(e instanceof UserAuthException);
  }

  /**
   * @param tcpConnected whether the TCP connection was up when it failed (a silent host vs. a
   *     closed port)
   */
  static String connect(
      SshSettings s,
      IOException e,
      KnownHostsVerifier verifier,
      SshKeys keys,
      boolean tcpConnected) {
    return connect(s, e, verifier, keys, tcpConnected, false);
  }

  /**
   * @param jump whether {@code s} is a jump host, whose address comes from ProxyJump and ssh_config
   */
  static String connect(
      SshSettings s,
      IOException e,
      KnownHostsVerifier verifier,
      SshKeys keys,
      boolean tcpConnected,
      boolean jump) {
    String where = s.host() + ":" + s.port();
    String check =
        jump
            ? " Check the jump host "
                + s.name()
                + " (ProxyJump, and its HostName and Port in ssh_config)."
            : " Check ansible_host and ansible_port of "
                + s.name()
                + " (or HostName and Port in ssh_config).";
    KnownHostsVerifier.Rejection r = verifier == null ? null : verifier.rejection();
    if (r != null) return hostKey(s, r);
    if (e instanceof UserAuthException) {
      String tried = String.join(", ", keys.sources());
      boolean password = keys.sources().stream().anyMatch(x -> x.startsWith("password"));
      return "the host refused "
          + (password ? "" : "public-key ")
          + "login for user '"
          + s.user()
          + "' with "
          + tried
          + ". Check ansible_user, the key (ansible_ssh_private_key_file, IdentityFile, ssh-agent)"
          + (password ? " or password" : "")
          + ", and that the matching public key is in ~"
          + s.user()
          + "/.ssh/authorized_keys on the host.";
    }
    long secs = s.connectTimeout().toSeconds();
    if (has(e, UnknownHostException.class)) {
      return "cannot resolve host name '" + s.host() + "'. Check ansible_host of " + s.name() + ".";
    }
    if (has(e, ConnectException.class)) {
      return "connection refused by " + where + ": nothing listens there. Is sshd running?" + check;
    }
    if (has(e, NoRouteToHostException.class)) {
      return "no route to " + where + "." + check;
    }
    if (has(e, SocketTimeoutException.class) || has(e, TimeoutException.class)) {
      String what =
          tcpConnected
              ? "connected to "
                  + where
                  + " but the SSH server did not answer within "
                  + secs
                  + " s (connect time-out). Is the host overloaded or frozen, or is this port not SSH?"
              : "no answer from "
                  + where
                  + " within "
                  + secs
                  + " s (connect time-out). Is the host up and reachable (firewall)?";
      return what + check;
    }
    if (describe(e).contains("identification")) {
      return where
          + " closed the connection before saying it is an SSH server. Is this port SSH, or is a"
          + " firewall or sshd's MaxStartups turning us away?"
          + check;
    }
    return "cannot connect to " + where + ": " + describe(e) + "." + check;
  }

  private static String hostKey(SshSettings s, KnownHostsVerifier.Rejection r) {
    String hostPort =
        s.port() == SshSettings.DEFAULT_PORT ? s.host() : "[" + s.host() + "]:" + s.port();
    String key = r.keyType() + " " + r.fingerprint();
    return switch (r.outcome()) {
      case UNKNOWN ->
          "host key of "
              + hostPort
              + " is not known ("
              + key
              + " is not in "
              + knownFiles(s)
              + "). If this is the right host, record its key with: ssh-keyscan -p "
              + s.port()
              + " "
              + s.host()
              + " >> "
              + s.knownHosts()
              + " (and compare the fingerprint), or run with --accept-new-host-keys.";
      case CHANGED ->
          "HOST KEY CHANGED for "
              + hostPort
              + ": it now offers "
              + key
              + ", which is not the"
              + " key "
              + s.knownHosts()
              + " has for it. Someone may be intercepting the connection, or the host"
              + " was reinstalled. Only if you know the change is legitimate, remove the old entry with:"
              + " ssh-keygen -R '"
              + hostPort
              + "' -f "
              + s.knownHosts()
              + " and connect again.";
      case NOT_RECORDED ->
          "cannot record the new host key "
              + key
              + " in "
              + s.knownHosts()
              + ": "
              + r.detail()
              + ". Make the file writable, or add the key yourself: ssh-keyscan -p "
              + s.port()
              + " "
              + s.host()
              + " >> "
              + s.knownHosts();
    };
  }

  private static String knownFiles(SshSettings s) {
    if (s.moreKnownHosts().isEmpty()) return s.knownHosts().toString();
    return s.knownHosts()
        + " nor "
        + s.moreKnownHosts().stream().map(Object::toString).collect(Collectors.joining(", "));
  }

  static boolean has(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) return true;
    }
    return false;
  }

  /** The innermost message: sshj wraps the useful one in layers of its own. */
  static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String msg = t.getMessage();
    return msg == null || msg.isBlank() ? t.getClass().getSimpleName() : msg;
  }
}
