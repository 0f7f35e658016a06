package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.PrivateFiles;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.result.HostResult;
import io.runbook.result.RunResult;
import io.runbook.secret.Redactor;
import io.runbook.secret.SecretValues;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a rehearsal found, written as {@code rehearsal.json} (for machines) and {@code rehearsal.md}
 * (for people) into its run directory: per host and phase and step how long it took, the downtime
 * steps and the measured downtime, whether the rollback restored the checksums, and the forecast
 * for the real fleet.
 */
public final class RehearsalReport {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> UPGRADE_PHASES =
      List.of("backup", "pull", "migrate", "deploy", "verify");

  private final String runId;
  private final Instant at;
  private final Plan production;
  private final Path runbook;
  private final String planHash;
  private final int forks;
  private final Map<String, Map<String, Object>> hosts = new LinkedHashMap<>();
  private final Map<String, FleetForecast.ModeTiming> modes = new LinkedHashMap<>();
  private List<String> containers = List.of();
  private List<String> kept = List.of();
  private RunResult upgrade;
  private RunResult rollback;
  private FleetForecast.Result forecast;
  private final Redactor redactor;
  private final Map<String, Boolean> restored = new LinkedHashMap<>();
  private final Map<String, String> copies = new LinkedHashMap<>();
  private final List<String> warnings = new ArrayList<>();
  private RehearsalVerdict verdict;
  private Instant finished;

  RehearsalReport(
      String runId, Instant at, Plan production, Path runbook, String planHash, int forks) {
    this.runId = runId;
    this.at = at;
    this.production = production;
    this.runbook = runbook;
    this.planHash = planHash;
    this.forks = forks;
    this.redactor = SecretValues.of(production).redactor();
  }

  public String runId() {
    return runId;
  }

  public String planHash() {
    return planHash;
  }

  public List<String> containers() {
    return containers;
  }

  void containers(List<String> names) {
    containers = List.copyOf(names);
  }

  /** The container standing in for a production host, and the host's mode. */
  void copy(String host, String container) {
    copies.put(host, container);
  }

  void warn(String warning) {
    warnings.add(warning);
  }

  /**
   * Computes the verdict, once, from what the rehearsal checked.
   *
   * @param aborted what stopped the rehearsal before its checks were done, or null
   */
  void finish(String aborted, boolean interrupted, Instant at) {
    finished = at;
    verdict = RehearsalVerdict.of(upgrade, rollback, restored, aborted, interrupted, warnings);
  }

  public RehearsalVerdict verdict() {
    if (verdict == null) throw new IllegalStateException("the rehearsal has not finished");
    return verdict;
  }

  public String inventory() {
    return production.inventory();
  }

  public Instant at() {
    return at;
  }

  /** The targeted production hosts, as the rehearsal's record lists them. */
  public List<String> targeted() {
    return production.hosts().stream().map(HostPlan::name).toList();
  }

  void keptContainers(List<String> names) {
    kept = List.copyOf(names);
  }

  private Map<String, Object> host(String name) {
    return hosts.computeIfAbsent(name, k -> new LinkedHashMap<>());
  }

  void seeded(String host, List<String> paths, List<String> archives) {
    host(host).put("seeded_paths", paths);
    host(host).put("restored_backups", archives);
  }

  /** The seeded files in which production's secret values were replaced (paths only). */
  /**
   * The secrets {@code rehearsal.redact} named by file and key: which were found (and replaced),
   * which not.
   */
  void keyedSecrets(String host, List<String> replaced, List<String> warnings) {
    if (replaced.isEmpty() && warnings.isEmpty()) return;
    host(host).put("redacted_keys", replaced);
    warnings.forEach(w -> warn(host + ": " + w));
  }

  void scrubbed(String host, List<String> files, List<String> members) {
    host(host).put("secret_values_replaced_in", files);
    host(host).put("secret_values_replaced_in_archives", members);
  }

  /** What one command costs over production's connection and over the rehearsal host's. */
  void commandCost(String host, long productionMs, long rehearsalMs) {
    host(host).put("command_ms", Map.of("production", productionMs, "rehearsal", rehearsalMs));
  }

  private final Map<String, Downtime.Result> downtimes = new LinkedHashMap<>();

  /**
   * The downtime production will see, as a client: the copy's, less the extra cost of each command
   * the copy ran inside its outage (a Docker exec costs tens of ms more than a command over SSH).
   */
  @SuppressWarnings("unchecked")
  void predict(String host, CommandClock commands) {
    Downtime.Result d = downtimes.get(host);
    Map<String, Object> h = host(host);
    FleetForecast.ModeTiming timing = timings.get(host);
    long stepBounded = timing == null ? 0 : timing.downtimeMs();
    if (d == null || d.clientFrom() == null || !(h.get("command_ms") instanceof Map<?, ?> cost)) {
      merge(host, stepBounded);
      return;
    }
    int n = commands.between(host, d.clientFrom(), d.clientTo());
    // the copy's cost: the larger of the five trivial commands before the upgrade and the quick
    // commands during it (a daemon busier during the run makes every command of the outage dearer)
    long quick = commands.quickCommandMs(host);
    long copyCost = Math.max(((Number) cost.get("rehearsal")).longValue(), quick);
    long extra = Math.max(0, copyCost - ((Number) cost.get("production")).longValue());
    long predicted = Math.max(0, d.clientMillis() - n * extra);
    Map<String, Object> dt = (Map<String, Object>) h.get("downtime");
    dt.put("commands_in_outage", n);
    dt.put("copy_command_ms", copyCost);
    dt.put("copy_quick_command_ms_during_run", quick);
    dt.put("predicted_client_ms", predicted);
    merge(host, predicted); // the fleet forecast is of what production's clients will see
  }

  /** Which backup the copy got and how old it was. */
  void backup(String host, Map<String, Object> facts) {
    host(host).put("backup", facts);
  }

  void upgrade(RunResult r) {
    upgrade = r;
  }

  void rollback(RunResult r) {
    rollback = r;
  }

  /** Records a host's forward steps and probe samples, and derives its phases and downtime. */
  void host(
      String host,
      String mode,
      List<Downtime.StepTiming> steps,
      List<Downtime.Sample> samples,
      RehearsalSpec.ForHost spec,
      List<String> redacted) {
    Map<String, Object> h = host(host);
    h.put("mode", mode);
    h.put("redacted_vars", redacted);
    h.put("health_url", spec.health());
    List<Map<String, Object>> stepList = new ArrayList<>();
    Map<String, Long> phases = new LinkedHashMap<>();
    for (Downtime.StepTiming s : steps) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("index", s.index());
      m.put("phase", s.phase());
      m.put("name", s.name());
      m.put("start", s.start().toString());
      m.put("end", s.end().toString());
      m.put("millis", s.millis());
      m.put("passed", s.passed());
      stepList.add(m);
      phases.putIfAbsent(s.phase(), 0L);
    }
    phases.replaceAll((p, v) -> StepClock.span(steps, List.of(p)));
    h.put("phases_ms", phases);
    h.put("steps", stepList);
    Downtime.Result d = samples == null ? null : Downtime.measure(steps, samples);
    if (d != null) downtimes.put(host, d);
    Map<String, Object> dt = new LinkedHashMap<>();
    dt.put("measured", d != null);
    dt.put("millis", d == null ? 0 : d.millis());
    dt.put("client_ms", d == null ? 0 : d.clientMillis());
    dt.put(
        "steps",
        d == null ? List.of() : d.steps().stream().map(Downtime.StepTiming::name).toList());
    dt.put("from_step_index", d == null || d.steps().isEmpty() ? null : d.steps().get(0).index());
    dt.put(
        "to_step_index",
        d == null || d.steps().isEmpty() ? null : d.steps().get(d.steps().size() - 1).index());
    dt.put("recovered", d == null || d.recovered());
    dt.put("probe_samples", samples == null ? 0 : samples.size());
    h.put("downtime", dt);
    timings.put(
        host,
        new FleetForecast.ModeTiming(
            mode,
            StepClock.span(steps, List.of("preflight")),
            StepClock.span(steps, UPGRADE_PHASES),
            StepClock.span(steps, List.of("gate")),
            StepClock.span(steps, List.of("cleanup")),
            d == null ? 0 : d.millis()));
  }

  private final Map<String, FleetForecast.ModeTiming> timings = new LinkedHashMap<>();

  /** Adds a host's timing to its mode's (the slowest host of a mode stands for it). */
  private void merge(String host, long downtimeMs) {
    FleetForecast.ModeTiming h = timings.remove(host);
    if (h == null) return;
    String mode = h.mode();
    FleetForecast.ModeTiming t =
        new FleetForecast.ModeTiming(
            mode, h.preflightMs(), h.upgradeMs(), h.gateMs(), h.cleanupMs(), downtimeMs);
    modes.merge(
        mode == null ? "-" : mode,
        t,
        (a, b) ->
            new FleetForecast.ModeTiming(
                a.mode(),
                Math.max(a.preflightMs(), b.preflightMs()),
                Math.max(a.upgradeMs(), b.upgradeMs()),
                Math.max(a.gateMs(), b.gateMs()),
                Math.max(a.cleanupMs(), b.cleanupMs()),
                Math.max(a.downtimeMs(), b.downtimeMs())));
  }

  void restored(String host, String before, String after) {
    Map<String, Object> h = host(host);
    boolean same = before.equals(after);
    restored.put(host, same);
    h.put("rollback_restored", same);
    h.put("verified_files", before.lines().count());
    if (!same) {
      List<String> b = before.lines().toList();
      List<String> a = after.lines().toList();
      List<String> diff = new ArrayList<>();
      b.stream().filter(l -> !a.contains(l)).forEach(l -> diff.add("- " + l));
      a.stream().filter(l -> !b.contains(l)).forEach(l -> diff.add("+ " + l));
      h.put("rollback_differences", diff);
    }
  }

  void forecast(List<String> hostModes, List<Object> serial) {
    if (!modes.keySet().containsAll(hostModes)) return;
    forecast = FleetForecast.predict(hostModes, serial, forks, modes);
  }

  public boolean passed() {
    return verdict().passed();
  }

  /**
   * 0 passed; 2 the upgrade or the rollback failed on a rehearsal host (or the rehearsal could not
   * finish); 3 a rollback handler failed there; 130 interrupted.
   */
  public int exitCode() {
    return verdict().exitCode();
  }

  /**
   * What the rehearsal found, production's secrets (which reach {@code -e} and messages) masked.
   */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", runId);
    m.put("kind", "rehearsal");
    m.put("at", at.toString());
    m.put("runbook", runbook.toAbsolutePath().normalize().toString());
    m.put("inventory", production.inventory());
    m.put("plan_hash", planHash);
    m.put("finished", finished == null ? null : finished.toString());
    m.put("millis", finished == null ? null : Duration.between(at, finished).toMillis());
    m.put("targeted_hosts", targeted());
    m.put("copies", copies);
    m.put("verdict", verdict().toJson());
    m.put("passed", verdict().passed());
    m.put("upgrade_passed", verdict().upgradePassed());
    m.put("rollback_passed", verdict().rollbackClean() && verdict().restored());
    m.put("upgrade", upgrade == null ? null : outcomes(upgrade));
    m.put("rollback", rollback == null ? null : outcomes(rollback));
    m.put("containers", containers);
    m.put("kept_containers", kept);
    m.put("hosts", hosts);
    m.put("modes", modes);
    m.put("forecast", forecast);
    m.put(
        "forecast_formula",
        "see FleetForecast: batches from rollout.serial over the "
            + production.hosts().size()
            + " targeted host(s), forks "
            + forks
            + "; window = sum over batches of ceil(|batch|/forks) * max downtime(mode)");
    return redactor.value(m);
  }

  private static Map<String, Object> outcomes(RunResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("exit_code", r.exitCode());
    m.put("millis", r.durationMillis());
    Map<String, String> hosts = new LinkedHashMap<>();
    for (HostResult h : r.hosts())
      hosts.put(h.host(), h.outcome().label() + (h.message() == null ? "" : ": " + h.message()));
    m.put("hosts", hosts);
    return m;
  }

  void write(Path runDir) throws IOException {
    PrivateFiles.write(
        runDir.resolve("rehearsal.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n");
    PrivateFiles.write(runDir.resolve("rehearsal.md"), redactor.text(markdown()));
  }

  /**
   * The summary printed at the end, and the head of rehearsal.md: the verdict first, then the
   * figures.
   */
  public String summary() {
    RehearsalVerdict verdict = verdict();
    StringBuilder sb = new StringBuilder();
    sb.append(verdict.headline())
        .append(" · run ")
        .append(runId)
        .append(" · plan ")
        .append(PlanHash.shortForm(planHash))
        .append('\n');
    sb.append("  rehearsed ")
        .append(runbook.getFileName())
        .append(" for ")
        .append(targeted().size())
        .append(" host(s) of ")
        .append(production.inventory())
        .append(", on disposable copies: ")
        .append(
            copies.isEmpty()
                ? "none started"
                : String.join(
                    ", ",
                    copies.entrySet().stream()
                        .map(e -> e.getKey() + " → " + e.getValue())
                        .toList()))
        .append('\n');
    for (String f : verdict.failures()) sb.append("  failed: ").append(f).append('\n');
    for (String w : verdict.warnings()) sb.append("  warning: ").append(w).append('\n');
    sb.append("  upgrade:  ")
        .append(upgrade == null ? "did not run" : verdict.upgradePassed() ? "passed" : "FAILED")
        .append(upgrade == null ? "" : " (" + upgrade.durationMillis() + " ms)")
        .append('\n');
    sb.append("  rollback: ")
        .append(restored.isEmpty() ? "not checked" : verdict.rollbackLine())
        .append(rollback == null ? "" : " (" + rollback.durationMillis() + " ms)")
        .append('\n');
    hosts.forEach(
        (h, v) -> {
          @SuppressWarnings("unchecked")
          Map<String, Object> d = (Map<String, Object>) v.get("downtime");
          sb.append("  ")
              .append(h)
              .append(" (")
              .append(v.get("mode"))
              .append("): downtime ")
              .append(
                  d == null
                      ? "?"
                      : d.get("millis")
                          + " ms over "
                          + d.get("steps")
                          + "; as the health probe saw it "
                          + d.get("client_ms")
                          + " ms"
                          + (d.containsKey("predicted_client_ms")
                              ? ", predicted for production "
                                  + d.get("predicted_client_ms")
                                  + " ms ("
                                  + d.get("commands_in_outage")
                                  + " commands' Docker exec cost off)"
                              : ""))
              .append('\n');
        });
    if (forecast != null) {
      sb.append("  fleet of ")
          .append(forecast.hosts())
          .append(" host(s), ")
          .append(forecast.batches().size())
          .append(" batch(es): predicted rollout ")
          .append(forecast.durationMs())
          .append(" ms, some host down for ")
          .append(forecast.downtimeWindowMs())
          .append(" ms, ")
          .append(forecast.hostDowntimeMs())
          .append(" host-ms in all; full outage per mode ")
          .append(forecast.fullOutageMs())
          .append('\n');
    }
    return redactor.text(sb.toString());
  }

  @SuppressWarnings("unchecked")
  private String markdown() {
    StringBuilder md =
        new StringBuilder("# Rehearsal " + runId + "\n\n```\n" + summary() + "```\n\n");
    md.append("Runbook `")
        .append(runbook)
        .append("`, inventory `")
        .append(production.inventory())
        .append("`, plan hash `")
        .append(planHash)
        .append("`; verdict: **")
        .append(verdict().outcome())
        .append("** (exit ")
        .append(verdict().exitCode())
        .append(").\n\n");
    hosts.forEach(
        (h, v) -> {
          md.append("## ").append(h).append(" (mode ").append(v.get("mode")).append(")\n\n");
          md.append("Seeded: ")
              .append(v.get("seeded_paths"))
              .append("; backups restored: `")
              .append(v.get("restored_backups"))
              .append("` (")
              .append(v.getOrDefault("backup", Map.of()))
              .append(")")
              .append("; secrets replaced: ")
              .append(v.get("redacted_vars"))
              .append(v.containsKey("redacted_keys") ? " and at " + v.get("redacted_keys") : "")
              .append(", their production values also in ")
              .append(v.getOrDefault("secret_values_replaced_in", List.of()))
              .append(".\n\n");
          md.append("| phase | ms |\n|---|---|\n");
          ((Map<String, Object>) v.getOrDefault("phases_ms", Map.of()))
              .forEach(
                  (p, ms) -> md.append("| ").append(p).append(" | ").append(ms).append(" |\n"));
          Map<String, Object> d = (Map<String, Object>) v.getOrDefault("downtime", Map.of());
          List<String> down = (List<String>) d.getOrDefault("steps", List.of());
          md.append("\n| # | phase | step | ms | downtime |\n|---|---|---|---|---|\n");
          for (Map<String, Object> s :
              (List<Map<String, Object>>) v.getOrDefault("steps", List.of())) {
            md.append("| ")
                .append(s.get("index"))
                .append(" | ")
                .append(s.get("phase"))
                .append(" | ")
                .append(s.get("name"))
                .append(" | ")
                .append(s.get("millis"))
                .append(" | ")
                .append(down.contains(s.get("name")) ? "down" : "")
                .append(" |\n");
          }
          md.append("\nMeasured downtime: ")
              .append(d.get("millis"))
              .append(" ms (health probe: ")
              .append(v.get("health_url"))
              .append(", ")
              .append(d.get("probe_samples"))
              .append(" samples). Rollback restored data and config: ")
              .append(v.get("rollback_restored"))
              .append(" (")
              .append(v.get("verified_files"))
              .append(" checksums)");
          if (v.containsKey("rollback_differences"))
            md.append(": ").append(v.get("rollback_differences"));
          md.append(".\n\n");
        });
    if (forecast != null) {
      md.append(
          "## Fleet forecast\n\n| batch | hosts | waves | ms | some host down, ms |\n|---|---|---|---|---|\n");
      for (FleetForecast.Batch b : forecast.batches()) {
        md.append("| ")
            .append(b.number())
            .append(" | ")
            .append(b.hosts())
            .append(" | ")
            .append(b.waves())
            .append(" | ")
            .append(b.durationMs())
            .append(" | ")
            .append(b.downtimeWindowMs())
            .append(" |\n");
      }
      md.append("\nPreflight ")
          .append(forecast.preflightMs())
          .append(" ms; rollout ")
          .append(forecast.durationMs())
          .append(" ms; downtime window ")
          .append(forecast.downtimeWindowMs())
          .append(" ms; host downtime ")
          .append(forecast.hostDowntimeMs())
          .append(" ms; at most ")
          .append(forecast.maxHostsDownAtOnce())
          .append(" host(s) down at once; full outage per mode ")
          .append(forecast.fullOutageMs())
          .append(".\n");
    }
    return md.toString();
  }
}
