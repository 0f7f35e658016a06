package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.runbook.transport.LocalTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The probe polls on the host, with the host's clock, so what it sees does not depend on what
 * reaching the host costs: a real loop of {@code curl} on this machine against a real HTTP server
 * that answers 503 for a known stretch.
 */
class HealthProbeTest {

  @Test
  void hostClockLinesBecomeSamplesOnTheControllersClock() {
    List<Downtime.Sample> s = HealthProbe.parse("1000 1010 1\n1050 1070 0\n1100 11", 500);
    assertThat(s)
        .containsExactly(
            new Downtime.Sample(Instant.ofEpochMilli(505), true),
            new Downtime.Sample(Instant.ofEpochMilli(560), false));
  }

  @Test
  void measuresAnOutageAsAClientOnTheHostSeesIt() throws Exception {
    AtomicBoolean down = new AtomicBoolean(false);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/_health",
        x -> {
          byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(down.get() ? 503 : 200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/_health";
    HealthProbe probe = new HealthProbe(new LocalTransport("probe"), url, "local");
    try {
      probe.start();
      Thread.sleep(1000);
      down.set(true);
      long from = System.nanoTime();
      Thread.sleep(2000);
      down.set(false);
      long outage = (System.nanoTime() - from) / 1_000_000;
      Thread.sleep(1000);
      probe.close();
      List<Downtime.Sample> samples = probe.samples();
      assertThat(samples).as("samples on the host").hasSizeGreaterThan(3);
      assertThat(samples.get(0).healthy()).isTrue();
      assertThat(samples.get(samples.size() - 1).healthy()).isTrue();
      assertThat(samples.stream().filter(x -> !x.healthy()).count()).isPositive();
      long client = Downtime.client(samples);
      // The probe's resolution is the time between two samples: its interval plus one curl, quick
      // on an idle
      // machine (about 60 ms), much slower on a loaded one. Each end of the outage is known to half
      // of it.
      long gap =
          Duration.between(samples.get(0).at(), samples.get(samples.size() - 1).at()).toMillis()
              / (samples.size() - 1);
      System.out.printf(
          "probe: %d samples, %d ms apart; outage %d ms, measured %d ms%n",
          samples.size(), gap, outage, client);
      assertThat(client)
          .as("measured %d ms of a %d ms outage, samples %d ms apart", client, outage, gap)
          .isBetween(outage - gap - 50, outage + gap + 50);
    } finally {
      server.stop(0);
    }
    try (var left = Files.list(Path.of("/tmp"))) {
      assertThat(left.filter(p -> p.getFileName().toString().startsWith("runbook-probe.")).toList())
          .as("the loop's directory is removed when the probe closes")
          .isEmpty();
    }
  }
}
