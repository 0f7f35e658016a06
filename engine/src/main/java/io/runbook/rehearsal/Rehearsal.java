package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.RunbookException;
import io.runbook.docker.DockerEngine;
import io.runbook.docker.DockerJavaEngine;
import io.runbook.engine.Engine;
import io.runbook.engine.Launch;
import io.runbook.event.EventListener;
import io.runbook.event.RunStarted;
import io.runbook.execution.ConnectionSettings;
import io.runbook.execution.Connector;
import io.runbook.execution.Executor;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.execution.RunControl;
import io.runbook.execution.RunState;
import io.runbook.execution.StandardConnector;
import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.journal.JournalWriter;
import io.runbook.model.RunOnce;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.secret.SecretValues;
import io.runbook.transport.Become;
import io.runbook.transport.DockerClients;
import io.runbook.transport.DockerTransport;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Transport;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * {@code runbook rehearse}: per deployment mode, a few disposable containers stand in for
 * production hosts (seeded from them, read-only), the runbook runs on them through the same {@link
 * Executor} as {@code apply} (same plan, same rollout), then the run is rolled back as {@code
 * runbook rollback} would, and the seeded data and config must be byte for byte as before. The
 * containers go away afterwards.
 */
public final class Rehearsal {

  /**
   * What a rehearsal runs, and where it reports.
   *
   * @param production the plan {@code apply} would run on production
   * @param inventoryFiles the production inventory's sources, every -i in order (for the record)
   * @param console makes the live view of the rehearsal's runs, given the journal file; null for
   *     none
   * @param progress one line per thing the rehearsal does outside the runs
   * @param finished shows the finished report (its verdict), before a Ctrl-C lets the JVM exit
   */
  public record Options(
      Plan production,
      Path runbookFile,
      List<Path> inventoryFiles,
      Map<String, Object> extraVars,
      int hostsPerMode,
      boolean keep,
      int forks,
      Path stateDir,
      ConnectionSettings connection,
      Function<Path, EventListener> console,
      Consumer<String> progress,
      boolean requireFreshBackup,
      Consumer<RehearsalReport> finished) {}

  /**
   * A production host and the container standing in for it: the variables the runbook's {@code
   * rehearsal.vars} give it, the names of those replaced as secrets, and the port offered as {@code
   * rehearsal.port}, held until the copy's start command runs.
   */
  record Standin(
      HostPlan production,
      RehearsalContainers.Started container,
      String image,
      boolean docker,
      Map<String, Object> ownVars,
      Secrets.Redacted secrets,
      List<String> redacted,
      PortReservation port) {}

  /**
   * A stand-in with its plan: {@code seed} is the rehearsal section rendered with production's
   * variables (what to read there, and what production's backups are called), {@code spec} with the
   * rehearsal host's.
   */
  record Pair(
      Standin standin, HostPlan rehearsal, RehearsalSpec.ForHost seed, RehearsalSpec.ForHost spec) {
    HostPlan production() {
      return standin.production();
    }

    String container() {
      return standin.container().name();
    }
  }

  private final Options o;

  public Rehearsal(Options options) {
    this.o = options;
  }

  /**
   * How long Ctrl-C waits for the step in flight, the rollback and the teardown before the JVM
   * exits anyway.
   */
  static final Duration WIND_DOWN = Duration.ofMinutes(10);

  /**
   * Runs the rehearsal; returns its report (also written next to its journal, and recorded for
   * {@code apply}/{@code plan}), whatever its verdict: a rehearsal that could not finish (a seed
   * that cannot be read, a backup that does not restore, Ctrl-C) is a failed or interrupted one,
   * with its record. Only invalid input is thrown, before or instead of a verdict.
   */
  public RehearsalReport run() throws Exception {
    Instant now = Instant.now();
    String runId = Planner.newRunId(now);
    Path runDir = JournalWriter.runDir(o.stateDir(), runId);
    PrivateFiles.directoryBelow(o.stateDir(), runDir);
    RehearsalSpec spec = RehearsalSpec.of(o.production().runbook());
    List<HostPlan> chosen = choose(o.production().hosts(), o.hostsPerMode());
    refuseHostsOutside(chosen);
    RehearsalReport report =
        new RehearsalReport(
            runId,
            now,
            o.production(),
            o.runbookFile(),
            PlanHash.of(o.production(), o.extraVars()),
            o.forks());
    RehearsalContainers containers = new RehearsalContainers(runId);
    // Ctrl-C: the upgrade stops starting steps (the ones in flight end, bounded by their
    // time-outs), the run
    // is rolled back and the copies torn down by this thread; the hook only waits for that, and
    // removes the
    // copies itself only when the wind-down outlives WIND_DOWN.
    RunControl upgradeControl = control(runId, o.production());
    CountDownLatch done = new CountDownLatch(1);
    Thread onCtrlC =
        new Thread(
            () -> {
              upgradeControl.cancel();
              try {
                if (!done.await(WIND_DOWN.toMillis(), TimeUnit.MILLISECONDS) && !o.keep())
                  containers.removeAll();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "rehearsal-interrupt");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    String aborted = null;
    boolean invalidInput = false;
    try {
      aborted = body(runId, now, spec, chosen, report, containers, upgradeControl);
    } catch (RunbookException e) {
      invalidInput =
          e.code() == ErrorCode.INVALID_INPUT; // an error, not a verdict: no report, no record
      throw e;
    } finally {
      try {
        finish(runId, runDir, report, containers, aborted, invalidInput, upgradeControl);
      } finally {
        done.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(onCtrlC);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs now, and returns as the rehearsal is done
        }
      }
    }
    return report;
  }

  /**
   * Tears down (unless --keep), then computes the verdict, writes the report and the record, and
   * shows it.
   */
  private void finish(
      String runId,
      Path runDir,
      RehearsalReport report,
      RehearsalContainers containers,
      String aborted,
      boolean invalidInput,
      RunControl upgradeControl)
      throws IOException {
    report.containers(containers.list());
    if (o.keep()) {
      o.progress()
          .accept(
              "Kept the rehearsal hosts (--keep): "
                  + String.join(", ", containers.list())
                  + "; remove them and what they made with:\n"
                  + String.join(
                      "\n",
                      RehearsalContainers.cleanupCommands(runId).stream()
                          .map(c -> "  " + c)
                          .toList()));
    } else {
      o.progress().accept("Removed " + containers.removeAll().describe());
    }
    report.keptContainers(o.keep() ? containers.list() : List.of());
    containers.close();
    if (invalidInput) return;
    report.finish(aborted, upgradeControl.cancelled(), Instant.now());
    report.write(runDir);
    Rehearsals.record(o.stateDir(), o.runbookFile(), o.inventoryFiles(), report);
    o.finished().accept(report);
  }

  /**
   * Seeds, upgrades, rolls back and checks; returns why it stopped early, or null when it got
   * through.
   */
  private String body(
      String runId,
      Instant now,
      RehearsalSpec spec,
      List<HostPlan> chosen,
      RehearsalReport report,
      RehearsalContainers containers,
      RunControl upgradeControl)
      throws Exception {
    Map<String, HealthProbe> probes = new LinkedHashMap<>();
    List<Standin> standins = new ArrayList<>();
    String stage = "starting the rehearsal hosts";
    try {
      for (HostPlan hp : chosen) {
        if (upgradeControl.cancelled()) return null;
        Standin s = standIn(hp, spec, containers);
        standins.add(s);
        report.copy(hp.name(), s.container().name());
      }
      Path inventory =
          writeInventory(
              JournalWriter.runDir(o.stateDir(), runId).resolve("inventory.yaml"), standins);
      Plan plan = plan(inventory, runId, now);
      List<Pair> pairs = new ArrayList<>();
      for (Standin s : standins) {
        HostPlan rehearsal =
            plan.hosts().stream()
                .filter(h -> h.name().equals(s.production().name()))
                .findFirst()
                .orElseThrow();
        pairs.add(new Pair(s, rehearsal, spec.forHost(s.production()), spec.forHost(rehearsal)));
      }
      Map<String, String> before = new LinkedHashMap<>();
      for (Pair p : pairs) {
        if (upgradeControl.cancelled()) return null;
        stage = "seeding " + p.production().name();
        seed(p, containers, report);
        before.put(p.production().name(), checksums(p));
        probes.put(p.production().name(), probe(p));
      }
      if (upgradeControl.cancelled()) return null;
      stage = "the upgrade";
      probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::start);
      StepClock clock = new StepClock();
      o.progress()
          .accept(
              "Upgrade on "
                  + pairs.size()
                  + " rehearsal host(s), as apply would run it (run "
                  + runId
                  + ")");
      CommandClock commands = new CommandClock(new StandardConnector(o.connection()));
      RunResult upgrade =
          execute(
              plan,
              false,
              clock,
              upgradeControl,
              commands,
              ex -> ex.run(plan, request(inventory, plan)));
      probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::close);
      report.upgrade(upgrade);
      for (Pair p : pairs) {
        String h = p.production().name();
        HealthProbe probe = probes.get(h);
        report.host(
            h,
            p.production().mode(),
            clock.of(h),
            probe == null ? null : probe.samples(),
            p.spec(),
            p.standin().redacted());
        report.predict(h, commands);
      }
      stage = "the rollback";
      boolean changed =
          upgrade.hosts().stream()
              .anyMatch(
                  r -> r.outcome() == Outcome.SUCCEEDED || r.outcome() == Outcome.CLEANUP_FAILED);
      if (changed)
        o.progress().accept("Rollback of run " + runId + ", as 'runbook rollback' would run it");
      // a control of its own: after Ctrl-C the rollback must still run to the end
      RunResult rollback =
          changed
              ? execute(
                  plan,
                  true,
                  null,
                  control(runId, plan),
                  new StandardConnector(o.connection()),
                  ex -> ex.rollback(plan, RunState.read(o.stateDir(), runId)))
              : null;
      report.rollback(rollback);
      stage = "checking the rollback";
      for (Pair p : pairs) {
        report.restored(p.production().name(), before.get(p.production().name()), checksums(p));
      }
      report.forecast(
          o.production().hosts().stream().map(h -> h.mode() == null ? "-" : h.mode()).toList(),
          o.production().runbook().rollout().serial());
      return null;
    } catch (RuntimeException e) {
      if (e instanceof RunbookException r && r.code() == ErrorCode.INVALID_INPUT) throw e;
      String why =
          e instanceof RunbookException
              ? e.getMessage()
              : e.getClass().getSimpleName() + ": " + e.getMessage();
      o.progress().accept("error during " + stage + ": " + why);
      return stage + ": " + why;
    } finally {
      probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::close);
      standins.forEach(s -> s.port().close());
    }
  }

  /** Starts the container standing in for {@code hp} and works out the variables it gets. */
  private Standin standIn(HostPlan hp, RehearsalSpec spec, RehearsalContainers containers) {
    RehearsalSpec mode = spec.forMode(hp.mode());
    Object hostImage = hp.host().vars().get("rehearsal_image");
    String image =
        hostImage != null
            ? String.valueOf(hostImage)
            : mode.image() != null ? mode.image() : RehearsalContainers.DEFAULT_IMAGE;
    boolean docker = mode.usesDocker();
    RehearsalContainers.Started started =
        containers.start(hp.name(), image, docker, docker ? spec.sharedDir(hp) : null);
    o.progress()
        .accept(
            "["
                + hp.name()
                + "] rehearsal host "
                + started.name()
                + " ("
                + image
                + ", mode "
                + hp.mode()
                + (docker ? ", on this Docker daemon, directory " + started.dir() : "")
                + ")");
    PortReservation port = PortReservation.take();
    try {
      Map<String, Object> own =
          spec.vars(
              hp,
              o.production().runbook(),
              new RehearsalSpec.Offer(started.name(), port.port(), started.dir()));
      // generated once: the inventory and the values replaced in the seeded files must agree
      Secrets.Redacted secrets = Secrets.redact(hp.host().vars(), mode.redact());
      List<String> redacted = secrets.names().stream().filter(n -> !own.containsKey(n)).toList();
      return new Standin(hp, started, image, docker, own, secrets, redacted, port);
    } catch (RuntimeException e) {
      port.close();
      throw e;
    }
  }

  /** The first {@code n} hosts of each mode, in plan order. */
  static List<HostPlan> choose(List<HostPlan> hosts, int n) {
    Map<String, Integer> taken = new LinkedHashMap<>();
    List<HostPlan> out = new ArrayList<>();
    for (HostPlan h : hosts) {
      String mode = h.mode() == null ? "-" : h.mode();
      if (taken.merge(mode, 1, Integer::sum) <= n) out.add(h);
    }
    return out;
  }

  private void seed(Pair p, RehearsalContainers containers, RehearsalReport report) {
    Host prod = p.production().host();
    Become prodBecome = prod.become() ? Become.as(prod.becomeUser()) : Become.NONE;
    Become become =
        p.rehearsal().host().become() ? Become.as(p.rehearsal().host().becomeUser()) : Become.NONE;
    StandardConnector connector = new StandardConnector(o.connection());
    try (Transport production = connector.open(prod);
        Transport root =
            DockerTransport.connect(prod.name() + " (rehearsal, root)", p.container(), "root");
        Transport host = connector.open(p.rehearsal().host());
        DockerOnHost docker = new DockerOnHost(p, root)) {
      long[] sshMs = {Long.MAX_VALUE};
      Transport timed =
          new Transport() {
            @Override
            public ExecResult exec(ExecRequest request) {
              long t0 = System.nanoTime();
              ExecResult r = production.exec(request);
              sshMs[0] = Math.min(sshMs[0], (System.nanoTime() - t0) / 1_000_000);
              return r;
            }

            @Override
            public String describe() {
              return production.describe();
            }

            @Override
            public void close() {
              // production's, closed below
            }
          };
      List<String> copied = Seeder.copy(timed, prodBecome, root, p.seed().seed());
      report.commandCost(
          prod.name(), sshMs[0] == Long.MAX_VALUE ? 0 : sshMs[0], Seeder.commandMillis(root));
      o.progress()
          .accept(
              "["
                  + prod.name()
                  + "] seeded from production (read-only): "
                  + String.join(", ", copied));
      Seeder.Target target =
          new Seeder.Target(
              prod.name(),
              host,
              become,
              p.rehearsal().vars(),
              docker.engine(),
              p.standin().image(),
              v -> containers.volume(v, prod.name()));
      List<String> archives =
          switch (p.spec().restore()) {
            case "none" -> List.of();
            case "latest" -> {
              String run = Seeder.newestRun(root, p.seed().backups());
              freshness(p, root, run, report);
              yield run == null
                  ? List.of()
                  : Seeder.restore(target, run, p.seed().backups(), p.spec().backups());
            }
            default -> {
              Seeder.restoreFiles(target, p.spec().restore());
              yield List.of(p.spec().restore());
            }
          };
      o.progress()
          .accept(
              "["
                  + prod.name()
                  + "] "
                  + (archives.isEmpty()
                      ? "no backup restored (" + p.spec().restore() + ")"
                      : "restored " + String.join(", ", archives) + " (checksums verified first)"));
      Map<String, String> pairs =
          new LinkedHashMap<>(
              Scrubber.pairs(prod.vars(), p.standin().secrets(), p.standin().redacted()));
      KeyedSecrets.Found keyed = KeyedSecrets.read(root, p.spec().redactKeys());
      keyed.pairs().forEach(pairs::putIfAbsent);
      keyed.warnings().forEach(w -> o.progress().accept("[" + prod.name() + "] warning: " + w));
      report.keyedSecrets(prod.name(), keyed.replaced(), keyed.warnings());
      Scrubber.Result scrubbed = Scrubber.scrub(root, copied, pairs);
      if (!scrubbed.files().isEmpty()) {
        o.progress()
            .accept(
                "["
                    + prod.name()
                    + "] production's secret values replaced in "
                    + scrubbed.files().size()
                    + " seeded file(s)"
                    + (scrubbed.members().isEmpty()
                        ? ""
                        : ", " + scrubbed.members().size() + " of them inside backup archives")
                    + ": "
                    + String.join(", ", scrubbed.files()));
      }
      report.scrubbed(prod.name(), scrubbed.files(), scrubbed.members());
      // the service of the copy may bind its port from now on (the start command, or the upgrade)
      p.standin().port().close();
      if (p.spec().start() != null) Seeder.start(host, become, p.spec().start());
      report.seeded(prod.name(), copied, archives);
    }
  }

  /**
   * Says which backup the copy gets and how old it is; a stale or missing one is a warning, or the
   * end.
   */
  private void freshness(Pair p, Transport root, String run, RehearsalReport report) {
    String host = p.production().name();
    BackupFreshness.Result f = BackupFreshness.check(host, root, run, p.seed(), Instant.now());
    report.backup(host, f.facts());
    if (f.taken() != null) {
      o.progress()
          .accept(
              "["
                  + host
                  + "] newest backup: run "
                  + run
                  + ", taken "
                  + f.taken()
                  + " ("
                  + f.age()
                  + " ago)");
    }
    if (f.problem() == null) return;
    if (o.requireFreshBackup()) {
      throw new RunbookException(ErrorCode.HOST_FAILED, f.problem() + " (--require-fresh-backup)");
    }
    o.progress().accept("warning: " + f.problem());
    report.warn(f.problem());
  }

  /**
   * The Docker daemon of a rehearsal host that has one (opened on first use, through its
   * connection), else none.
   */
  private static final class DockerOnHost implements AutoCloseable {
    private final DockerEngine engine;

    DockerOnHost(Pair p, Transport root) {
      this.engine =
          p.standin().docker()
              ? DockerJavaEngine.open(root, DockerClients.DEFAULT_SOCKET, p.production().name())
              : null;
    }

    DockerEngine engine() {
      return engine;
    }

    @Override
    public void close() {
      if (engine != null) engine.close();
    }
  }

  private HealthProbe probe(Pair p) throws InterruptedException {
    String url = p.spec().health();
    if (url == null) return null;
    HealthProbe probe =
        new HealthProbe(
            DockerTransport.connect(p.production().name() + " (probe)", p.container(), "root"),
            url,
            p.production().name());
    if (!probe.awaitHealthy(Duration.ofSeconds(30))) {
      probe.close();
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          p.production().name()
              + ": the service on the seeded"
              + " rehearsal host never answered "
              + url
              + " within 30 s: give the runbook a rehearsal.start command"
              + " (or fix rehearsal.health)");
    }
    return probe;
  }

  private String checksums(Pair p) {
    try (Transport root =
            DockerTransport.connect(
                p.production().name() + " (rehearsal, root)", p.container(), "root");
        DockerOnHost docker = new DockerOnHost(p, root)) {
      String files = Seeder.checksums(root, p.spec().verify());
      if (p.spec().verifyVolumes().isEmpty()) return files;
      if (docker.engine() == null) {
        throw new RunbookException(
            ErrorCode.INVALID_INPUT,
            p.production().name()
                + ": rehearsal.verify_volumes needs"
                + " a rehearsal host with Docker: set rehearsal.docker: true for mode "
                + p.production().mode());
      }
      return files
          + Seeder.volumeChecksums(docker.engine(), p.standin().image(), p.spec().verifyVolumes());
    }
  }

  /**
   * The rehearsal hosts as an Ansible inventory: production's variables, secrets replaced, the
   * runbook's rehearsal.vars over them (not redacted: the runbook asked for those values), reached
   * through Docker.
   */
  private Path writeInventory(Path file, List<Standin> standins) throws Exception {
    Map<String, Object> groups = new LinkedHashMap<>();
    for (Standin p : standins) {
      Host prod = p.production().host();
      Map<String, Object> vars = new LinkedHashMap<>(p.secrets().vars());
      for (String k :
          List.of(
              "ansible_port",
              "ansible_ssh_private_key_file",
              "ansible_private_key_file",
              "ansible_ssh_common_args",
              "ansible_ssh_extra_args",
              "ansible_ssh_host",
              "ansible_ssh_port")) vars.remove(k);
      vars.putAll(p.ownVars());
      vars.put("ansible_connection", "docker");
      vars.put("ansible_host", p.container().name());
      for (String g : prod.groups()) {
        if (g.equals("all")) continue;
        @SuppressWarnings("unchecked")
        Map<String, Object> group =
            (Map<String, Object>)
                groups.computeIfAbsent(
                    g, k -> new LinkedHashMap<>(Map.of("hosts", new LinkedHashMap<>())));
        @SuppressWarnings("unchecked")
        Map<String, Object> hosts = (Map<String, Object>) group.get("hosts");
        hosts.put(prod.name(), vars);
      }
    }
    Map<String, Object> root = Map.of("all", Map.of("children", groups));
    String yaml =
        "# Rehearsal hosts of run "
            + file.getParent().getFileName()
            + ": production's variables with"
            + " secrets replaced and rehearsal.vars applied, reached through Docker.\n"
            + new Dump(
                    DumpSettings.builder()
                        .setDefaultFlowStyle(FlowStyle.BLOCK)
                        .setSchema(InventoryLoader.writerSchema())
                        .build())
                .dumpToString(root);
    PrivateFiles.write(file, yaml);
    return file;
  }

  /**
   * A host this run touches that is not a rehearsed copy would be the real one: the run-once
   * phases' host (or this controller), a host steps are delegated to (a load balancer, say).
   * Refused, before any container starts.
   */
  private void refuseHostsOutside(List<HostPlan> chosen) {
    Set<String> copies = chosen.stream().map(HostPlan::name).collect(Collectors.toSet());
    HostPlan once = o.production().once();
    String on = once == null ? null : once.host().name();
    if (on != null && (on.equals(RunOnce.CONTROLLER) || !copies.contains(on))) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "runbook rehearse does not cover "
              + "before_all/after_all on '"
              + on
              + "' yet: that host is not one of the rehearsed targets, so its steps "
              + "would run on the real one. Nothing was started.");
    }
    Set<String> delegates = new TreeSet<>();
    chosen.forEach(h -> delegates.addAll(h.delegates().keySet()));
    delegates.removeAll(copies);
    if (!delegates.isEmpty()) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "runbook rehearse does not cover delegate_to yet: steps of the rehearsed hosts are delegated to "
              + String.join(", ", delegates)
              + ", which are not rehearsed copies, so those steps would run on the real hosts. Nothing was"
              + " started.");
    }
  }

  private Plan plan(Path inventoryFile, String runId, Instant now) {
    Problems problems = new Problems();
    Inventory inventory =
        InventoryLoader.load(inventoryFile, inventoryFile.toString(), problems).orElse(null);
    problems.throwIfAny();
    return Engine.plan(
        o.production().runbook(),
        inventory,
        inventoryFile.toString(),
        null,
        o.extraVars(),
        runId,
        now);
  }

  private RunStarted.Request request(Path inventory, Plan plan) {
    return Engine.started(
        plan, o.runbookFile(), inventory.toAbsolutePath().toString(), null, o.extraVars());
  }

  /** A run's control, its lease outlasting the longest step (as apply's). */
  private static RunControl control(String runId, Plan plan) {
    return Engine.control(runId, plan, Duration.ZERO, false);
  }

  private RunResult execute(
      Plan plan,
      boolean append,
      StepClock clock,
      RunControl control,
      Connector connector,
      Function<Executor, RunResult> action) {
    // production's secrets reach the rehearsal through -e; the stand-ins' generated ones are masked
    // too
    Launch launch =
        Launch.of(
            o.stateDir(),
            connector,
            o.forks(),
            control,
            SecretValues.of(o.production()).addPlan(plan));
    if (append) launch = launch.appending();
    if (clock != null) launch = launch.view(journal -> clock);
    if (o.console() != null) launch = launch.view(o.console());
    return Engine.execute(plan, launch, action).result();
  }
}
