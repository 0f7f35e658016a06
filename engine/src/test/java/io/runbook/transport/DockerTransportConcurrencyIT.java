package io.runbook.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import io.runbook.testing.SshHost;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link DockerTransport}'s attached execs under the load that once broke them: many commands at
 * once on three real containers, with and without stdin, binary and big output, while other threads
 * upload, download, inspect and copy archives through the same daemon. Every output, byte count and
 * exit code is checked exactly.
 */
class DockerTransportConcurrencyIT {
  private static final int CONTAINERS = 3;
  private static final int COMMANDS_PER_WORKER = 30;
  private static DockerClient docker;
  private static final List<String> containers = new ArrayList<>();

  @BeforeAll
  static void start() {
    SshHost.requireDockerAndImage();
    docker = DockerClients.local();
    for (int i = 0; i < CONTAINERS; i++) {
      String name = "runbook-dtcit-" + UUID.randomUUID().toString().substring(0, 8);
      docker
          .createContainerCmd(SshHost.IMAGE)
          .withName(name)
          .withCmd("sleep", "infinity")
          .withLabels(Map.of("io.runbook.test", "DockerTransportConcurrencyIT"))
          .exec();
      docker.startContainerCmd(name).exec();
      containers.add(name);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (String c : containers)
      docker.removeContainerCmd(c).withForce(true).withRemoveVolumes(true).exec();
    if (docker != null) docker.close();
  }

  @Test
  void manyCommandsAtOnceBesideOtherApiCallsKeepEveryOutputAndExitCode() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger sideCalls = new AtomicInteger();
    ConcurrentLinkedQueue<String> sideFailures = new ConcurrentLinkedQueue<>();
    List<Future<Integer>> workers = new ArrayList<>();
    List<Future<?>> side = new ArrayList<>();
    for (String c : containers) {
      // Two command workers per container, each with its own transport (one thread per transport,
      // as the
      // engine uses them).
      for (int w = 0; w < 2; w++) {
        long seed = c.hashCode() * 31L + w;
        workers.add(pool.submit(() -> commands(c, seed)));
      }
      // Beside them: files through the archive API on a third transport ...
      side.add(
          pool.submit(
              () -> {
                try (DockerTransport t = DockerTransport.connect("files", c, SshHost.USER)) {
                  Random rnd = new Random(c.hashCode());
                  for (int i = 0; running.get(); i++) {
                    byte[] content = new byte[rnd.nextInt(200_000)];
                    rnd.nextBytes(content);
                    String path = "/tmp/side/f" + (i % 3) + ".bin";
                    t.upload(content, path, "0600", Become.NONE);
                    byte[] back = t.download(path, Become.NONE);
                    if (!Arrays.equals(back, content))
                      sideFailures.add(c + ": " + path + " came back different");
                    sideCalls.incrementAndGet();
                  }
                }
                return null;
              }));
      // ... and plain docker-java calls on a client of its own.
      side.add(
          pool.submit(
              () -> {
                try (DockerClient d = DockerClients.local()) {
                  while (running.get()) {
                    d.inspectContainerCmd(c).exec();
                    try (InputStream in =
                        d.copyArchiveFromContainerCmd(c, "/etc/hostname").exec()) {
                      in.transferTo(new ByteArrayOutputStream());
                    }
                    d.listContainersCmd().exec();
                    sideCalls.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    int commands = 0;
    try {
      for (Future<Integer> f : workers) commands += f.get(10, TimeUnit.MINUTES);
    } finally {
      running.set(false);
      for (Future<?> f : side) f.get(2, TimeUnit.MINUTES);
      pool.shutdown();
    }
    assertThat(commands).isEqualTo(CONTAINERS * 2 * COMMANDS_PER_WORKER);
    assertThat(sideFailures).isEmpty();
    assertThat(sideCalls.get())
        .as("the side calls really ran beside the commands")
        .isGreaterThan(CONTAINERS);
  }

  /** Runs a mix of commands on its own transport to {@code container}; how many it checked. */
  private static int commands(String container, long seed) throws Exception {
    Random rnd = new Random(seed);
    int done = 0;
    try (DockerTransport t = DockerTransport.connect("worker", container, SshHost.USER)) {
      for (int i = 0; i < COMMANDS_PER_WORKER; i++) {
        int code = rnd.nextInt(6);
        String label = container + " #" + i;
        switch (i % 4) {
          case 0 -> { // binary stdin, hashed
            byte[] input = new byte[rnd.nextInt(300_000)];
            rnd.nextBytes(input);
            ExecResult r =
                exec(t, "sha256sum | cut -d' ' -f1; echo err-" + i + " >&2; exit " + code, input);
            assertThat(r.stdoutText()).as(label).isEqualTo(sha256(input) + "\n");
            assertThat(r.stderrText()).as(label).isEqualTo("err-" + i + "\n");
            assertThat(r.exitCode()).as(label).isEqualTo(code);
          }
          case 1 -> { // binary stdin echoed back whole
            byte[] input = new byte[rnd.nextInt(200_000)];
            rnd.nextBytes(input);
            ExecResult r = exec(t, "cat; exit " + code, input);
            assertThat(r.stdout()).as(label).isEqualTo(input);
            assertThat(r.stdoutTotal()).as(label).isEqualTo(input.length);
            assertThat(r.stderr()).as(label).isEmpty();
            assertThat(r.exitCode()).as(label).isEqualTo(code);
          }
          case 2 -> { // much output on both streams, no stdin
            int n = 1 + rnd.nextInt(50_000);
            ExecResult r = exec(t, "seq 1 " + n + "; seq " + n + " -1 1 >&2; exit " + code, null);
            String expected = seq(n);
            assertThat(r.stdoutText()).as(label).isEqualTo(expected);
            assertThat(r.stderrTotal()).as(label).isEqualTo(expected.length());
            assertThat(r.exitCode()).as(label).isEqualTo(code);
          }
          default -> { // nothing at all, fast
            ExecResult r = exec(t, "exit " + code, null);
            assertThat(r.stdout()).as(label).isEmpty();
            assertThat(r.stderr()).as(label).isEmpty();
            assertThat(r.exitCode()).as(label).isEqualTo(code);
          }
        }
        done++;
      }
    }
    return done;
  }

  private static ExecResult exec(DockerTransport t, String command, byte[] stdin) {
    ExecResult r =
        t.exec(ExecRequest.builder(command).stdin(stdin).timeout(Duration.ofMinutes(2)).build());
    assertThat(r.timedOut()).as(command).isFalse();
    return r;
  }

  private static String seq(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= n; i++) sb.append(i).append('\n');
    return sb.toString();
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
