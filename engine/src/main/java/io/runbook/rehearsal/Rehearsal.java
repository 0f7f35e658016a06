package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.event.EventListener;
import io.runbook.secret.SecretValues;
import io.runbook.RunbookException;
import io.runbook.docker.DockerClients;
import io.runbook.docker.DockerEngine;
import io.runbook.docker.DockerJavaEngine;
import io.runbook.event.EventBus;
import io.runbook.event.EventListener;
import io.runbook.event.RunStarted;
import io.runbook.execution.ConnectionSettings;
import io.runbook.execution.Executor;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Hosts;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.execution.RunControl;
import io.runbook.execution.RunState;
import io.runbook.execution.StandardConnector;
import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.journal.JournalWriter;
import io.runbook.model.Rollout;
import io.runbook.result.Outcome;
import io.runbook.result.RunResult;
import io.runbook.transport.Become;
import io.runbook.transport.DockerTransport;
import io.runbook.transport.Transport;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * {@code runbook rehearse}: per deployment mode, a few disposable containers stand in for production hosts
 * (seeded from them, read-only), the runbook runs on them through the same {@link Executor} as
 * {@code apply} (same plan, same rollout), then the run is rolled back as {@code runbook rollback} would,
 * and the seeded data and config must be byte for byte as before. The containers go away afterwards.
 */
public final class Rehearsal {

  /**
   * @param production the plan {@code apply} would run on production
   * @param inventoryFile the production inventory (for the record)
   * @param console makes the live view of the rehearsal's runs, given the journal file; null for none
   * @param progress one line per thing the rehearsal does outside the runs
   */
  public record Options(Plan production, Path runbookFile, Path inventoryFile, Map<String, Object> extraVars,
      int hostsPerMode, boolean keep, int forks, Path stateDir, ConnectionSettings connection,
      Function<Path, EventListener> console, Consumer<String> progress) {}

  /**
   * A production host and the container standing in for it: the variables the runbook's {@code rehearsal.vars}
   * give it and the names of those replaced as secrets.
   */
  record Standin(HostPlan production, RehearsalContainers.Started container, String image, boolean docker,
      Map<String, Object> ownVars, List<String> redacted) {}

  /**
   * A stand-in with its plan: {@code seed} is the rehearsal section rendered with production's variables
   * (what to read there, and what production's backups are called), {@code spec} with the rehearsal host's.
   */
  record Pair(Standin standin, HostPlan rehearsal, RehearsalSpec.ForHost seed, RehearsalSpec.ForHost spec) {
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

  /** Runs the rehearsal; returns its report (also written next to its journal). */
  public RehearsalReport run() throws Exception {
    Instant now = Instant.now();
    String runId = Planner.newRunId(now);
    Path runDir = JournalWriter.runDir(o.stateDir(), runId);
    PrivateFiles.directoryBelow(o.stateDir(), runDir);
    RehearsalSpec spec = RehearsalSpec.of(o.production().runbook());
    List<HostPlan> chosen = choose(o.production().hosts(), o.hostsPerMode());
    RehearsalReport report = new RehearsalReport(runId, now, o.production(), o.runbookFile(),
        PlanHash.of(o.production(), o.extraVars()), o.forks());
    RehearsalContainers containers = new RehearsalContainers(runId);
    Thread teardownOnExit = new Thread(() -> {
      if (!o.keep()) containers.removeAll();
    }, "rehearsal-teardown");
    Runtime.getRuntime().addShutdownHook(teardownOnExit);
    try {
      List<Standin> standins = new ArrayList<>();
      for (HostPlan hp : chosen) standins.add(standIn(hp, spec, containers));
      report.containers(containers.list());
      Path inventory = writeInventory(runDir.resolve("inventory.yaml"), standins, spec);
      Plan plan = plan(inventory, runId, now);
      List<Pair> pairs = new ArrayList<>();
      for (Standin s : standins) {
        HostPlan rehearsal = plan.hosts().stream().filter(h -> h.name().equals(s.production().name())).findFirst().orElseThrow();
        pairs.add(new Pair(s, rehearsal, spec.forHost(s.production()), spec.forHost(rehearsal)));
      }
      Map<String, String> before = new LinkedHashMap<>();
      Map<String, HealthProbe> probes = new LinkedHashMap<>();
      try {
        for (Pair p : pairs) {
          seed(p, containers, report);
          before.put(p.production().name(), checksums(p));
          probes.put(p.production().name(), probe(p));
        }
        probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::start);
        StepClock clock = new StepClock();
        o.progress().accept("Upgrade on " + pairs.size() + " rehearsal host(s), as apply would run it (run " + runId + ")");
        RunResult upgrade = execute(plan, false, clock, ex -> ex.run(plan, request(inventory, plan)));
        probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::close);
        report.upgrade(upgrade);
        for (Pair p : pairs) {
          String h = p.production().name();
          HealthProbe probe = probes.get(h);
          report.host(h, p.production().mode(), clock.of(h), probe == null ? null : probe.samples(),
              p.spec(), p.standin().redacted());
        }
        o.progress().accept("Rollback of run " + runId + ", as 'runbook rollback' would run it");
        boolean changed = upgrade.hosts().stream().anyMatch(r -> r.outcome() == Outcome.SUCCEEDED
            || r.outcome() == Outcome.CLEANUP_FAILED);
        RunResult rollback = changed
            ? execute(plan, true, null, ex -> ex.rollback(plan, RunState.read(o.stateDir(), runId))) : null;
        report.rollback(rollback);
        for (Pair p : pairs) {
          report.restored(p.production().name(), before.get(p.production().name()), checksums(p));
        }
      } finally {
        probes.values().stream().filter(Objects::nonNull).forEach(HealthProbe::close);
      }
      report.forecast(o.production().hosts().stream().map(h -> h.mode() == null ? "-" : h.mode()).toList(),
          o.production().runbook().rollout().serial());
    } finally {
      if (o.keep()) {
        o.progress().accept("Kept the rehearsal hosts (--keep): " + String.join(", ", containers.list())
            + "; remove them and what they made with: docker rm -f $(docker ps -aq --filter name="
            + RehearsalContainers.prefix(runId) + "-); docker volume rm $(docker volume ls -q --filter name="
            + RehearsalContainers.prefix(runId) + "-)");
      } else {
        o.progress().accept("Removed " + containers.removeAll().describe());
      }
      report.keptContainers(o.keep() ? containers.list() : List.of());
      containers.close();
      try {
        Runtime.getRuntime().removeShutdownHook(teardownOnExit);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs now
      }
    }
    report.write(runDir);
    Rehearsals.record(o.stateDir(), o.runbookFile(), report.planHash(), now, runId, report.passed());
    return report;
  }

  /** Starts the container standing in for {@code hp} and works out the variables it gets. */
  private Standin standIn(HostPlan hp, RehearsalSpec spec, RehearsalContainers containers) {
    RehearsalSpec mode = spec.forMode(hp.mode());
    Object hostImage = hp.host().vars().get("rehearsal_image");
    String image = hostImage != null ? String.valueOf(hostImage)
        : mode.image() != null ? mode.image() : RehearsalContainers.DEFAULT_IMAGE;
    boolean docker = mode.usesDocker();
    RehearsalContainers.Started started = containers.start(hp.name(), image, docker, docker ? spec.sharedDir(hp) : null);
    o.progress().accept("[" + hp.name() + "] rehearsal host " + started.name() + " (" + image + ", mode " + hp.mode()
        + (docker ? ", on this Docker daemon, directory " + started.dir() : "") + ")");
    Map<String, Object> own = spec.vars(hp, o.production().runbook(),
        new RehearsalSpec.Offer(started.name(), freePort(), started.dir()));
    List<String> redacted = Secrets.redact(hp.host().vars(), mode.redact()).names().stream()
        .filter(n -> !own.containsKey(n)).toList();
    return new Standin(hp, started, image, docker, own, redacted);
  }

  /** A TCP port nothing listens on now, on this machine (the daemon's, for a rehearsal host on its network). */
  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new RunbookException(ErrorCode.HOST_FAILED, "cannot find a free port for a rehearsal host: " + e.getMessage());
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
    Become become = p.rehearsal().host().become() ? Become.as(p.rehearsal().host().becomeUser()) : Become.NONE;
    StandardConnector connector = new StandardConnector(o.connection());
    try (Transport production = connector.open(prod);
        Transport root = DockerTransport.connect(prod.name() + " (rehearsal, root)", p.container(), "root");
        Transport host = connector.open(p.rehearsal().host());
        DockerOnHost docker = new DockerOnHost(p, root)) {
      List<String> copied = Seeder.copy(production, prodBecome, root, p.seed().seed());
      o.progress().accept("[" + prod.name() + "] seeded from production (read-only): " + String.join(", ", copied));
      Seeder.Target target = new Seeder.Target(prod.name(), host, become, p.rehearsal().vars(), docker.engine(),
          p.standin().image(), v -> containers.volume(v, prod.name()));
      List<String> archives = switch (p.spec().restore()) {
        case "none" -> List.of();
        case "latest" -> {
          String run = Seeder.newestRun(root, p.seed().backups());
          yield run == null ? List.of() : Seeder.restore(target, run, p.seed().backups(), p.spec().backups());
        }
        default -> {
          Seeder.restoreFiles(target, p.spec().restore());
          yield List.of(p.spec().restore());
        }
      };
      o.progress().accept("[" + prod.name() + "] " + (archives.isEmpty() ? "no backup restored (" + p.spec().restore() + ")"
          : "restored " + String.join(", ", archives) + " (checksums verified first)"));
      if (p.spec().start() != null) Seeder.start(host, become, p.spec().start());
      report.seeded(prod.name(), copied, archives);
    }
  }

  /** The Docker daemon of a rehearsal host that has one (opened on first use, through its connection), else none. */
  private static final class DockerOnHost implements AutoCloseable {
    private final DockerEngine engine;

    DockerOnHost(Pair p, Transport root) {
      this.engine = p.standin().docker()
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
    HealthProbe probe = new HealthProbe(DockerTransport.connect(p.production().name() + " (probe)", p.container(), "root"),
        url, p.production().name());
    if (!probe.awaitHealthy(Duration.ofSeconds(30))) {
      probe.close();
      throw new RunbookException(ErrorCode.HOST_FAILED, p.production().name() + ": the service on the seeded"
          + " rehearsal host never answered " + url + " within 30 s: give the runbook a rehearsal.start command"
          + " (or fix rehearsal.health)");
    }
    return probe;
  }

  private String checksums(Pair p) {
    try (Transport root = DockerTransport.connect(p.production().name() + " (rehearsal, root)", p.container(), "root");
        DockerOnHost docker = new DockerOnHost(p, root)) {
      String files = Seeder.checksums(root, p.spec().verify());
      if (p.spec().verifyVolumes().isEmpty()) return files;
      if (docker.engine() == null) {
        throw new RunbookException(ErrorCode.INVALID_INPUT, p.production().name() + ": rehearsal.verify_volumes needs"
            + " a rehearsal host with Docker: set rehearsal.docker: true for mode " + p.production().mode());
      }
      return files + Seeder.volumeChecksums(docker.engine(), p.standin().image(), p.spec().verifyVolumes());
    }
  }

  /**
   * The rehearsal hosts as an Ansible inventory: production's variables, secrets replaced, the runbook's
   * rehearsal.vars over them (not redacted: the runbook asked for those values), reached through Docker.
   */
  private Path writeInventory(Path file, List<Standin> standins, RehearsalSpec spec) throws Exception {
    Map<String, Object> groups = new LinkedHashMap<>();
    for (Standin p : standins) {
      Host prod = p.production().host();
      Map<String, Object> vars = new LinkedHashMap<>(Secrets.redact(prod.vars(),
          spec.forMode(p.production().mode()).redact()).vars());
      for (String k : List.of("ansible_port", "ansible_ssh_private_key_file", "ansible_private_key_file",
          "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_host", "ansible_ssh_port")) vars.remove(k);
      vars.putAll(p.ownVars());
      vars.put("ansible_connection", "docker");
      vars.put("ansible_host", p.container().name());
      for (String g : prod.groups()) {
        if (g.equals("all")) continue;
        @SuppressWarnings("unchecked")
        Map<String, Object> group = (Map<String, Object>) groups.computeIfAbsent(g, k -> new LinkedHashMap<>(Map.of("hosts", new LinkedHashMap<>())));
        @SuppressWarnings("unchecked")
        Map<String, Object> hosts = (Map<String, Object>) group.get("hosts");
        hosts.put(prod.name(), vars);
      }
    }
    Map<String, Object> root = Map.of("all", Map.of("children", groups));
    String yaml = "# Rehearsal hosts of run " + file.getParent().getFileName() + ": production's variables with"
        + " secrets replaced and rehearsal.vars applied, reached through Docker.\n"
        + new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK)
            .setSchema(InventoryLoader.writerSchema()).build()).dumpToString(root);
    PrivateFiles.write(file, yaml);
    return file;
  }

  private Plan plan(Path inventoryFile, String runId, Instant now) {
    Problems problems = new Problems();
    Inventory inventory = InventoryLoader.load(inventoryFile, inventoryFile.toString(), problems).orElse(null);
    problems.throwIfAny();
    return new Planner(o.production().runbook(), inventory, inventoryFile.toString())
        .plan(null, o.extraVars(), runId, now);
  }

  private RunStarted.Request request(Path inventory, Plan plan) {
    Rollout r = plan.runbook().rollout();
    String sha;
    try {
      sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(Files.readAllBytes(o.runbookFile())));
    } catch (Exception e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "cannot read " + o.runbookFile() + ": " + e.getMessage());
    }
    return new RunStarted.Request(o.runbookFile().toAbsolutePath().toString(), inventory.toAbsolutePath().toString(),
        null, o.extraVars(), r.serial(), r.maxFailPercentage(), r.onFailure().key(), sha, plan.createdAt());
  }

  private RunResult execute(Plan plan, boolean append, StepClock clock,
      Function<Executor, RunResult> action) {
    Duration longest = plan.runbook().timeout();
    for (HostPlan h : plan.hosts()) {
      for (var s : h.steps()) {
        if (s.spec().timeout() != null && s.spec().timeout().compareTo(longest) > 0) longest = s.spec().timeout();
      }
    }
    RunControl control = new RunControl(plan.runId(), Hosts.controller(), System.getProperty("user.name"),
        longest.plusSeconds(60), false);
    try (JournalWriter journal = append ? JournalWriter.append(o.stateDir(), plan.runId())
        : JournalWriter.open(o.stateDir(), plan.runId())) {
      EventBus bus = new EventBus().add(journal);
      if (clock != null) bus.add(clock);
      if (o.console() != null) bus.add(o.console().apply(journal.file()));
      // production's secrets reach the rehearsal through -e; the stand-ins' generated ones are masked too
      EventListener events = SecretValues.of(o.production()).addPlan(plan).redactor().listener(bus);
      return action.apply(new Executor(new StandardConnector(o.connection()), events, o.forks(), control,
          (b, n, h) -> true));
    }
  }
}
