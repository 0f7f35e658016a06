package io.runbook.execution;

import io.runbook.RunbookException;
import io.runbook.inventory.Host;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import io.runbook.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Checks whether hosts are ready for a run, without changing them: how each is reached (jump hosts,
 * user, what it logs in with), whether its host key is known, whether sudo works and needs a
 * password, and whether Docker answers; and says what to fix.
 */
public final class Doctor {
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(20);

  /** One finding: {@code label: text}; a problem makes the host not ready. */
  public record Finding(String label, String text, boolean problem) {}

  /**
   * What {@code doctor} found about one host.
   *
   * @param inputError the host cannot be connected to as configured (an option runbook cannot
   *     honour)
   */
  public record HostReport(String host, List<Finding> findings, boolean inputError) {
    public boolean ready() {
      return findings.stream().noneMatch(Finding::problem);
    }
  }

  private final StandardConnector connector;
  private final int parallel;

  public Doctor(StandardConnector connector, int parallel) {
    this.connector = connector;
    this.parallel = Math.max(1, parallel);
  }

  public List<HostReport> check(List<Host> hosts) {
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.min(parallel, Math.max(1, hosts.size())));
    try {
      List<Future<HostReport>> futures = new ArrayList<>();
      for (Host h : hosts) futures.add(pool.submit(() -> check(h)));
      List<HostReport> reports = new ArrayList<>();
      for (Future<HostReport> f : futures) {
        try {
          reports.add(f.get());
        } catch (ExecutionException e) {
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
      return reports;
    } finally {
      pool.shutdownNow();
    }
  }

  HostReport check(Host host) {
    List<Finding> f = new ArrayList<>();
    String connection;
    try {
      connection = host.connection();
    } catch (RunbookException e) {
      f.add(new Finding("connection", e.getMessage(), true));
      return new HostReport(host.name(), f, true);
    }
    if (connection.equals("ssh")) {
      SshSettings s;
      try {
        s = connector.ssh(host);
      } catch (RunbookException e) {
        f.add(new Finding("ssh", e.getMessage(), true));
        return new HostReport(host.name(), f, true);
      }
      f.add(new Finding("path", path(s), false));
    } else {
      f.add(new Finding("path", connection + " connection", false));
    }
    Transport t;
    try {
      t = connector.open(host);
    } catch (RunbookException e) {
      String msg = e.getMessage();
      String hostKey =
          msg.contains("HOST KEY CHANGED")
              ? "CHANGED"
              : msg.contains("is not known") ? "unknown" : null;
      if (hostKey != null) f.add(new Finding("host key", hostKey, true));
      f.add(new Finding("connect", msg, true));
      return new HostReport(host.name(), f, false);
    }
    try (t) {
      if (t instanceof SshTransport ssh) {
        f.add(new Finding("login", ssh.loginMethod(), false));
        f.add(new Finding("host key", "known", false));
      }
      sudo(host, t, f);
      docker(host, t, f);
    } catch (RunbookException e) {
      f.add(new Finding("check", e.getMessage(), true));
    }
    return new HostReport(host.name(), f, false);
  }

  /** {@code bastion (jump@192.0.2.10:2222) -> web1 (deploy@10.0.0.5:22)}. */
  static String path(SshSettings s) {
    List<String> parts = new ArrayList<>();
    for (SshSettings hop : s.jumps())
      parts.add(hop.name() + " (" + hop.user() + "@" + hop.host() + ":" + hop.port() + ")");
    parts.add(s.name() + " (" + s.user() + "@" + s.host() + ":" + s.port() + ")");
    return String.join(" -> ", parts);
  }

  private static void sudo(Host host, Transport t, List<Finding> f) {
    String user = host.becomeUser();
    ExecResult plain = run(t, "sudo -n -u " + Shell.quote(user) + " true", Become.NONE);
    if (plain.exitCode() == 0) {
      f.add(new Finding("sudo", "works without a password (as " + user + ")", false));
      return;
    }
    // With a sudo password configured, the transport hands it to sudo: does it work that way?
    ExecResult withPassword = run(t, "true", Become.as(user));
    if (withPassword.exitCode() == 0) {
      f.add(new Finding("sudo", "works with the sudo password (as " + user + ")", false));
      return;
    }
    String why = firstLine(withPassword.stderrText());
    String text =
        "does not work (as "
            + user
            + (why.isEmpty() ? "" : ": " + why)
            + "). If sudo wants a password,"
            + " set ansible_become_password (vaulted) or pass --ask-become-pass; else grant this user sudo";
    f.add(new Finding("sudo", text, host.become()));
  }

  private static void docker(Host host, Transport t, List<Finding> f) {
    boolean needed = host.mode().map(m -> m.equals("compose") || m.equals("docker")).orElse(false);
    ExecResult r = run(t, "docker version --format '{{.Server.Version}}'", Become.NONE);
    if (r.exitCode() == 0) {
      f.add(new Finding("docker", "reachable (server " + r.stdoutText().strip() + ")", false));
      return;
    }
    ExecResult viaSudo = run(t, "docker version --format '{{.Server.Version}}'", Become.as("root"));
    if (viaSudo.exitCode() == 0) {
      f.add(
          new Finding(
              "docker",
              "reachable through sudo only (server "
                  + viaSudo.stdoutText().strip()
                  + "); set ansible_become: true, or add the user to the docker group",
              needed && !host.become()));
      return;
    }
    String why = firstLine(r.stderrText());
    f.add(
        new Finding(
            "docker",
            "not reachable"
                + (why.isEmpty() ? "" : ": " + why)
                + (r.exitCode() == 127 ? " (docker is not installed)" : ""),
            needed));
  }

  private static ExecResult run(Transport t, String command, Become become) {
    return t.exec(ExecRequest.builder(command).become(become).timeout(CHECK_TIMEOUT).build());
  }

  private static String firstLine(String s) {
    return s.strip().lines().findFirst().orElse("");
  }
}
