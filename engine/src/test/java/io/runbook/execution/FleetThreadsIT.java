package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads of a fleet run, counted in-process while it runs: 20 hosts (20 SSH logins to one OpenSSH
 * container, each host with its own work directory and lock) with {@code --forks 4}. Per exec no
 * thread may start (stdin and output are moved by the fork thread) and no connection may have its
 * own keep-alive thread; what is left is sshj's reader thread per open connection, and at most
 * {@code forks + 1} connections are open at once (idle hosts' connections close and reopen): the
 * threads grow with forks, not with hosts.
 */
class FleetThreadsIT {
  private static final int HOSTS = 20;
  private static final int FORKS = 4;
  @RegisterExtension private static final Fleet fleet = Fleet.of(1);

  @TempDir Path tmp;

  @Test
  void twentyHostsWithFourForksNeedThreadsForTheForksOnly() throws Exception {
    SshHost h = fleet.host(0);
    byte[] payload = new byte[256 * 1024];
    new Random(7).nextBytes(payload);
    Files.write(tmp.resolve("payload.bin"), payload);
    StringBuilder inv = new StringBuilder("all:\n  hosts:\n");
    for (int i = 1; i <= HOSTS; i++) {
      String dir = "/tmp/threads/h" + i;
      inv.append("    h")
          .append(i)
          .append(": {ansible_host: ")
          .append(h.host())
          .append(", ansible_port: ")
          .append(h.port())
          .append(", ansible_user: ")
          .append(h.user())
          .append(", ansible_ssh_private_key_file: ")
          .append(h.privateKey())
          .append(", workdir: ")
          .append(dir)
          .append(", runbook_lock_path: ")
          .append(dir)
          .append("/lock}\n");
    }
    Path inventory = Files.writeString(tmp.resolve("inventory.yaml"), inv.toString());
    Path runbook =
        Files.writeString(
            tmp.resolve("threads.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: threads
        hosts: all
        timeout: 1m
        phases:
          deploy:
            - name: workdir
              command: [mkdir, -p, "[=workdir]"]
            - name: output on both streams
              shell: "seq 1 20000; seq 1 20000 >&2; echo $(hostname) > [=workdir]/shell.txt"
            - name: upload (stdin)
              copy: {src: payload.bin, dest: "[=workdir]/payload.bin"}
            - name: checksum of the upload
              shell: "sha256sum [=workdir]/payload.bin | cut -d' ' -f1 > [=workdir]/sum.txt"
            - name: last
              command: [echo, done]
        """);
    h.exec(
        "sh",
        "-c",
        "rm -rf /tmp/threads && for i in $(seq 1 "
            + HOSTS
            + "); do mkdir -p /tmp/threads/h$i; done"
            + " && chown -R "
            + h.user()
            + " /tmp/threads");

    Set<Long> before = ConcurrentHashMap.newKeySet();
    Thread.getAllStackTraces().keySet().forEach(t -> before.add(t.getId()));
    Map<String, Integer> started = new ConcurrentHashMap<>();
    AtomicInteger peakNew = new AtomicInteger();
    AtomicInteger peakReaders = new AtomicInteger();
    AtomicInteger peakPrepare = new AtomicInteger();
    AtomicBoolean running = new AtomicBoolean(true);
    Thread sampler =
        new Thread(
            () -> {
              Set<Long> seen = ConcurrentHashMap.newKeySet();
              while (running.get()) {
                int live = 0;
                int readers = 0;
                int prepare = 0;
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                  if (before.contains(t.getId()) || t == Thread.currentThread()) continue;
                  if (seen.add(t.getId()))
                    started.merge(t.getName().replaceAll("\\d+", "N"), 1, Integer::sum);
                  // ssh -G resolves hosts before the run (--forks at a time) and the JDK reaps each
                  // of those
                  // processes with a thread of its own: both are bounded by --forks below, apart
                  // from the run's peak
                  if (t.getName().startsWith("ssh-config-")
                      || t.getName().startsWith("process reaper")) {
                    if (t.isAlive()) prepare++;
                    continue;
                  }
                  live++;
                  if (t.getName().startsWith("sshj-Reader")) readers++;
                }
                peakNew.accumulateAndGet(live, Math::max);
                peakPrepare.accumulateAndGet(prepare, Math::max);
                peakReaders.accumulateAndGet(readers, Math::max);
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "thread-sampler");
    sampler.start();
    Cli.Run run;
    try {
      run =
          new SampleRuns(fleet, tmp)
              .cli(
                  "apply",
                  null,
                  runbook.toString(),
                  "-i",
                  inventory.toString(),
                  "--forks",
                  String.valueOf(FORKS));
    } finally {
      running.set(false);
      sampler.join();
    }

    assertThat(run.code()).as(run.all()).isZero();
    String sum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
    for (int i = 1; i <= HOSTS; i++) {
      assertThat(h.readFile("/tmp/threads/h" + i + "/sum.txt").strip()).isEqualTo(sum);
    }
    Map<String, Integer> names = new TreeMap<>(started);
    // forks + one reader per open connection (forks + 1) + the shared keep-alive thread + the lease
    // keeper +
    // a few one-off JVM/run threads (the journal's sync thread, a shutdown hook). None of it grows
    // with HOSTS.
    int limit = FORKS + (FORKS + 1) + 1 + 1 + 3;
    assertThat(peakNew.get())
        .as("peak threads started by the run: %s", names)
        .isLessThanOrEqualTo(limit);
    assertThat(names.keySet())
        .as("threads started by the run")
        .noneMatch(n -> n.startsWith("ssh-std"))
        .noneMatch(n -> n.contains("KeepAlive"));
    assertThat(names.getOrDefault("host-N", 0)).isLessThanOrEqualTo(FORKS);
    assertThat(names.getOrDefault("ssh-config-N", 0))
        .as("ssh -G resolvers: %s", names)
        .isLessThanOrEqualTo(FORKS);
    // the JDK's reaper threads of those ssh -G processes (at most --forks at once) and of a few
    // more
    assertThat(peakPrepare.get())
        .as("resolver and reaper threads alive at once: %s", names)
        .isLessThanOrEqualTo(2 * FORKS + 2);
    assertThat(names.getOrDefault("ssh-keepalive", 0)).isLessThanOrEqualTo(1);
    assertThat(names.getOrDefault("lease-keeper", 0)).isLessThanOrEqualTo(1);
    assertThat(peakReaders.get())
        .as("connections open at once (a reader thread each): %s", names)
        .isLessThanOrEqualTo(FORKS + 1);
    String readers =
        names.keySet().stream().filter(n -> n.startsWith("sshj-Reader")).findFirst().orElse("");
    assertThat(names.get(readers))
        .as("every host was connected: %s", names)
        .isGreaterThanOrEqualTo(HOSTS);
    System.out.println(
        "FleetThreadsIT: peak "
            + peakNew.get()
            + " new threads (limit "
            + limit
            + "), peak "
            + peakReaders.get()
            + " open connections; started: "
            + names);
  }
}
