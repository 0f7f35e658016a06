package io.runbook.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.EventBus;
import io.runbook.event.RunStarted;
import io.runbook.execution.Executor;
import io.runbook.execution.HostPlan;
import io.runbook.execution.Hosts;
import io.runbook.execution.Plan;
import io.runbook.execution.Planner;
import io.runbook.execution.RunControl;
import io.runbook.execution.RunState;
import io.runbook.inventory.ExtraVars;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.journal.EventJson;
import io.runbook.journal.JournalWriter;
import io.runbook.model.Rollout;
import io.runbook.model.Runbook;
import io.runbook.model.RunbookParser;
import io.runbook.result.RunResult;
import io.runbook.secret.SecretsFile;
import io.runbook.yaml.Problems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The one way to run a run: plan it from its inputs (or plan a past run again from its journal),
 * then execute it with its journal, events, secrets masking and control. {@code apply}, {@code
 * resume}, {@code rollback}, {@code rehearse} and the tests all go through here; the commands only
 * map their options onto a {@link RunRequest} and a {@link Launch}.
 */
public final class Engine {

  private Engine() {}

  /**
   * Parses, validates and plans with a new run id: throws with every problem found in any of the
   * inputs.
   */
  public static Plan plan(RunRequest request) {
    Instant now = Instant.now();
    return plan(request, Planner.newRunId(now), now);
  }

  /** Plans a run with a given id and timestamp (a resumed run keeps its own). */
  public static Plan plan(RunRequest request, String runId, Instant createdAt) {
    Problems problems = new Problems();
    Optional<Runbook> runbook =
        RunbookParser.parse(request.runbook(), display(request.runbook()), problems);
    Path runbookDir = request.runbook().toAbsolutePath().getParent();
    Inventory inventory =
        InventoryLoader.load(
                sources(request.inventory()),
                runbookDir,
                request.vault(),
                Engine::display,
                problems)
            .orElse(null);
    Set<String> extraSecrets = new LinkedHashSet<>();
    Map<String, Object> vars =
        ExtraVars.parse(request.extraVars(), request.vault(), extraSecrets, cwd(), problems);
    problems.throwIfAny();
    inventory = inventory.withSecrets(extraSecrets);
    String name =
        String.join(", ", sources(request.inventory()).stream().map(Engine::display).toList());
    return plan(
        request.overrides().apply(runbook.orElseThrow()),
        inventory,
        name,
        request.limit(),
        vars,
        runId,
        createdAt);
  }

  /** Plans a runbook already parsed on an inventory already loaded (the rehearsal's stand-ins). */
  public static Plan plan(
      Runbook runbook,
      Inventory inventory,
      String inventoryName,
      String limit,
      Map<String, Object> vars,
      String runId,
      Instant createdAt) {
    return new Planner(runbook, inventory, inventoryName).plan(limit, vars, runId, createdAt);
  }

  /**
   * Plans a past run again, as its journal says it was asked for, with its own id and timestamp;
   * refuses when the runbook file changed since, unless {@code force}.
   */
  public static Plan replan(RunState state, boolean force) {
    RunStarted.Request req = state.request();
    Path runbook = Path.of(req.runbookPath());
    // Hashing reads the whole file: only a regular one, since a FIFO put in its place would hang
    // here.
    if (Files.exists(runbook) && !Files.isRegularFile(runbook)) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          req.runbookPath()
              + " is no longer a regular file"
              + " (a directory, FIFO or device); put the runbook of run "
              + state.runId()
              + " back");
    }
    String now = sha256(runbook);
    if (!now.equals(req.runbookSha256()) && !force) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          req.runbookPath()
              + " changed since run "
              + state.runId()
              + " started: resuming or undoing it with different steps could do harm. Restore the file, or pass --force.");
    }
    List<String> extra = new ArrayList<>();
    // As JSON, so that values keep their types (and lists and maps survive) on the way back in;
    // secret
    // values come back from the run's private secrets file, since the journal holds them masked.
    Map<String, Object> extraVars = SecretsFile.restore(state.dir(), req.extraVars());
    if (!extraVars.isEmpty()) {
      try {
        extra.add(EventJson.mapper().writeValueAsString(extraVars));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    Rollout.Policy policy = Rollout.Policy.of(req.onFailure());
    // Vault passwords are not journaled: a resumed run reads them from ANSIBLE_VAULT_PASSWORD_FILE.
    RunRequest again =
        new RunRequest(
            runbook,
            sourcesOf(req.inventoryPath()),
            null,
            req.limit(),
            extra,
            r ->
                r.withRollout(
                    r.rollout().with(req.serial(), req.maxFailPercentage(), policy, null)));
    return plan(again, state.runId(), req.createdAt());
  }

  /**
   * What the journal records of how a run was asked for, so that {@link #replan} can plan it again.
   *
   * @param inventoryRecord the inventory sources as {@link #sourcesRecord} writes them
   */
  public static RunStarted.Request started(
      Plan plan,
      Path runbookFile,
      String inventoryRecord,
      String limit,
      Map<String, Object> extraVars) {
    Rollout r = plan.runbook().rollout();
    return new RunStarted.Request(
        runbookFile.toAbsolutePath().toString(),
        inventoryRecord,
        limit,
        extraVars,
        r.serial(),
        r.maxFailPercentage(),
        r.onFailure().key(),
        sha256(runbookFile),
        plan.createdAt());
  }

  /**
   * The runbook file's SHA-256 in hex: resume and rollback refuse a file that changed since the
   * run.
   */
  public static String sha256(Path file) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (Exception e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, "cannot read " + file + ": " + e.getMessage());
    }
  }

  /**
   * A run's control. Leases are renewed between steps, so a lease must outlast the longest step
   * (plus a minute), or another run could take a host over while a step still runs on it; {@code
   * asked} is raised to that, and to at least 5 s.
   */
  public static RunControl control(Plan plan, Duration asked, boolean breakLock) {
    return control(plan.runId(), plan, asked, breakLock);
  }

  /**
   * The control of run {@code runId}, whose steps are {@code plan}'s (the rehearsal's, before it is
   * planned).
   */
  public static RunControl control(String runId, Plan plan, Duration asked, boolean breakLock) {
    Duration longest = plan.runbook().timeout();
    for (HostPlan h : plan.hosts()) {
      for (var s : h.steps()) {
        if (s.spec().timeout() != null && s.spec().timeout().compareTo(longest) > 0)
          longest = s.spec().timeout();
      }
    }
    Duration floor = Duration.ofSeconds(Math.max(5, asked.toSeconds()));
    Duration needed = longest.plusSeconds(60);
    Duration lease = floor.compareTo(needed) >= 0 ? floor : needed;
    return new RunControl(
        runId, Hosts.controller(), System.getProperty("user.name"), lease, breakLock);
  }

  /**
   * Runs {@code action} (run, resume or roll back {@code plan}) on an executor wired to the run's
   * journal and views, with secret values masked in every event. A journal that cannot be written
   * stops the run (nothing new starts, hosts in progress roll back); once another controller took
   * the run over, its journal is that controller's to write.
   */
  public static Executed execute(Plan plan, Launch launch, Function<Executor, RunResult> action) {
    RunControl control = launch.control();
    try (JournalWriter journal =
        launch.append()
            ? JournalWriter.append(launch.stateDir(), plan.runId())
            : JournalWriter.open(launch.stateDir(), plan.runId())) {
      journal.onFailure(control::abort);
      EventBus bus =
          new EventBus()
              .add(
                  e -> {
                    if (!control.superseded()) journal.on(e);
                  });
      launch.views().forEach(v -> bus.add(v.apply(journal.file())));
      RunResult result =
          action.apply(
              new Executor(
                  launch.connector(),
                  launch.secrets().redactor().listener(bus),
                  launch.forks(),
                  control,
                  launch.confirmer()));
      String failure = journal.failure();
      return new Executed(
          result,
          journal.file(),
          failure,
          failure == null ? List.of() : journal.keptInMemoryOnly());
    }
  }

  /**
   * The inventory sources as absolute paths ({@code -i} arguments resolved from the working
   * directory).
   */
  public static List<Path> sources(List<String> args) {
    return args.stream().map(a -> InventoryLoader.resolve(a, cwd())).toList();
  }

  /**
   * How plans and journals name the sources: each absolute path, comma-separated (a path rarely
   * holds one).
   */
  public static String sourcesRecord(List<String> args) {
    return String.join(
        ",", sources(args).stream().map(p -> p.toAbsolutePath().toString()).toList());
  }

  /** The sources a journal recorded with {@link #sourcesRecord}. */
  public static List<String> sourcesOf(String record) {
    return List.of(record.split(","));
  }

  /** Paths in messages are relative to where the user stands, as they typed them. */
  public static String display(Path file) {
    Path abs = file.toAbsolutePath().normalize();
    Path cwd = cwd();
    return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
  }

  static Path cwd() {
    return Path.of("").toAbsolutePath();
  }
}
