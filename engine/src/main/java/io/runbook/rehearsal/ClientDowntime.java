package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.execution.ConnectionSettings;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.execution.StandardConnector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code apply --measure-downtime}: the downtime of each host as a client of its health URL sees it
 * during the real run, measured as the rehearsal measures it ({@link
 * Downtime.Result#clientMillis}), so the two can be compared. One probe (its own connection, a
 * {@code curl} on the host every 200 ms) per host with a health URL ({@code rehearsal.health}, else
 * the first http step of verify): opt-in, since it doubles the connections of a large fleet.
 */
public final class ClientDowntime implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, HealthProbe> probes = new LinkedHashMap<>();
  private final Map<String, String> urls = new LinkedHashMap<>();

  private ClientDowntime() {}

  /** Starts a probe on every host of the plan that has a health URL. */
  public static ClientDowntime start(Plan plan, ConnectionSettings settings) {
    ClientDowntime d = new ClientDowntime();
    RehearsalSpec spec = RehearsalSpec.of(plan.runbook());
    StandardConnector connector = new StandardConnector(settings);
    for (HostPlan h : plan.hosts()) {
      String url;
      try {
        url = spec.forHost(h).health();
      } catch (RuntimeException notRenderable) {
        continue;
      }
      if (url == null) continue;
      HealthProbe p = new HealthProbe(connector.open(h.host()), url, h.name());
      d.probes.put(h.name(), p);
      d.urls.put(h.name(), url);
      p.start();
    }
    return d;
  }

  /**
   * Stops the probes; per host, the milliseconds its health URL did not answer (0: it never went
   * down).
   */
  public Map<String, Long> stop() {
    Map<String, Long> out = new LinkedHashMap<>();
    probes.forEach(
        (h, p) -> {
          p.close();
          out.put(h, Downtime.client(p.samples()));
        });
    probes.clear();
    return out;
  }

  /** Writes {@code downtime.json} into the run's directory, beside its journal. */
  public void write(Path runDir, Map<String, Long> millis) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    millis.forEach((h, ms) -> m.put(h, Map.of("client_ms", ms, "health_url", urls.get(h))));
    Files.writeString(
        runDir.resolve("downtime.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
  }

  public List<String> hosts() {
    return List.copyOf(urls.keySet());
  }

  @Override
  public void close() {
    stop();
  }
}
