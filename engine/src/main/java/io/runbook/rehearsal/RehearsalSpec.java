package io.runbook.rehearsal;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.execution.HostPlan;
import io.runbook.execution.PlannedStep;
import io.runbook.model.Phase;
import io.runbook.model.Runbook;
import io.runbook.step.Step;
import io.runbook.template.Templates;
import io.runbook.template.Unknown;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runbook's {@code rehearsal:} section (every key optional), as templates. {@link #forHost}
 * renders it with a host's variables and fills the defaults from the runbook's own steps: with the
 * production host's for what is read from production (the seed, the backups' names), with the
 * rehearsal host's for what runs there. {@link #vars} gives a rehearsal host variables of its own
 * (rendered with production's).
 *
 * @param docker null when not given (a mode inherits the shared value)
 */
public record RehearsalSpec(
    List<String> seed,
    String restore,
    String start,
    String health,
    List<String> verify,
    List<String> redact,
    String image,
    Boolean docker,
    String sharedDir,
    Map<String, String> vars,
    List<String> verifyVolumes,
    Map<String, RehearsalSpec> modes,
    String file,
    List<RedactKey> redactKeys) {

  /**
   * A {@code rehearsal.redact} entry that names secrets by where they sit rather than by variable:
   * keys of a JSON or YAML file on the host ({@code auth.session_secret}, {@code
   * servers.0.password}). The values found there on the seeded copy are replaced wherever they
   * occur in it, backups included.
   */
  public record RedactKey(String file, List<String> keys) {}

  /**
   * What to do on one host, rendered. {@code health} may be null (no probe: downtime is not
   * measured). {@code verifyVolumes} are Docker volumes checksummed like the {@code verify} paths.
   */
  public record ForHost(
      List<String> seed,
      String restore,
      String start,
      String health,
      List<String> verify,
      List<String> verifyVolumes,
      List<Backup> backups,
      List<RedactKey> redactKeys) {}

  /**
   * Where a backup step of the runbook writes: {@code DEST/<run id>/NAME.tar.gz}. A {@code backup}
   * step's archive holds {@code paths}; a {@code docker_volume} backup's holds the contents of
   * {@code volume}.
   */
  public record Backup(String dest, String name, List<String> paths, String volume) {
    public Backup(String dest, String name, List<String> paths) {
      this(dest, name, paths, null);
    }
  }

  /** What a rehearsal host offers the {@code vars} templates as {@code rehearsal.*}. */
  public record Offer(String name, int port, String dir) {
    Map<String, Object> asVars() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("port", port);
      if (dir != null) m.put("dir", dir);
      return m;
    }
  }

  @SuppressWarnings("unchecked")
  public static RehearsalSpec of(Runbook runbook) {
    Object root = runbook.document().root();
    Map<String, Object> r =
        root instanceof Map<?, ?> m && m.get("rehearsal") instanceof Map<?, ?> s
            ? (Map<String, Object>) s
            : Map.of();
    return of(r, runbook.file());
  }

  @SuppressWarnings("unchecked")
  private static RehearsalSpec of(Map<String, Object> r, String file) {
    Map<String, RehearsalSpec> modes = new LinkedHashMap<>();
    if (r.get("modes") instanceof Map<?, ?> m) {
      m.forEach(
          (k, v) ->
              modes.put(
                  String.valueOf(k),
                  of(v instanceof Map<?, ?> vm ? (Map<String, Object>) vm : Map.of(), file)));
    }
    Map<String, String> vars = new LinkedHashMap<>();
    if (r.get("vars") instanceof Map<?, ?> v)
      v.forEach((k, t) -> vars.put(String.valueOf(k), String.valueOf(t)));
    return new RehearsalSpec(
        strings(r.get("seed")),
        (String) r.get("restore"),
        (String) r.get("start"),
        (String) r.get("health"),
        strings(r.get("verify")),
        redactVars(r.get("redact")),
        (String) r.get("image"),
        (Boolean) r.get("docker"),
        (String) r.get("shared_dir"),
        vars,
        strings(r.get("verify_volumes")),
        modes,
        file,
        redactKeys(r.get("redact")));
  }

  private static List<String> redactVars(Object v) {
    if (!(v instanceof List<?> l)) return List.of();
    return l.stream().filter(x -> !(x instanceof Map<?, ?>)).map(String::valueOf).toList();
  }

  private static List<RedactKey> redactKeys(Object v) {
    if (!(v instanceof List<?> l)) return List.of();
    List<RedactKey> out = new ArrayList<>();
    for (Object x : l) {
      if (x instanceof Map<?, ?> m && m.get("file") != null)
        out.add(new RedactKey(String.valueOf(m.get("file")), strings(m.get("keys"))));
    }
    return List.copyOf(out);
  }

  /** This spec with a mode's own keys ({@code rehearsal.modes.<mode>}) over the shared ones. */
  RehearsalSpec forMode(String mode) {
    RehearsalSpec m = mode == null ? null : modes.get(mode);
    if (m == null) return this;
    return new RehearsalSpec(
        m.seed.isEmpty() ? seed : m.seed,
        m.restore == null ? restore : m.restore,
        m.start == null ? start : m.start,
        m.health == null ? health : m.health,
        m.verify.isEmpty() ? verify : m.verify,
        m.redact.isEmpty() && m.redactKeys.isEmpty() ? redact : m.redact,
        m.image == null ? image : m.image,
        m.docker == null ? docker : m.docker,
        m.sharedDir == null ? sharedDir : m.sharedDir,
        m.vars.isEmpty() ? vars : m.vars,
        m.verifyVolumes.isEmpty() ? verifyVolumes : m.verifyVolumes,
        Map.of(),
        file,
        m.redact.isEmpty() && m.redactKeys.isEmpty() ? redactKeys : m.redactKeys);
  }

  /** Whether this mode's rehearsal hosts drive the controller's Docker daemon. */
  boolean usesDocker() {
    return Boolean.TRUE.equals(docker);
  }

  private static List<String> strings(Object v) {
    if (!(v instanceof List<?> l)) return List.of();
    return l.stream().map(String::valueOf).toList();
  }

  public ForHost forHost(HostPlan host) {
    RehearsalSpec own = forMode(host.mode());
    try {
      return own.render(host);
    } catch (Templates.TemplateError e) {
      throw inputError(own, host, e.getMessage());
    }
  }

  /**
   * The rehearsal host's own values of {@code vars}, rendered with the production host's variables
   * and {@code rehearsal.*}; a whole number comes out as a number, as YAML would read it.
   */
  public Map<String, Object> vars(HostPlan production, Runbook runbook, Offer offer) {
    RehearsalSpec own = forMode(production.mode());
    Map<String, Object> model = new LinkedHashMap<>(production.vars());
    model.put("rehearsal", offer.asVars());
    for (String name : own.vars.keySet()) {
      if (runbook.vars().containsKey(name)) {
        throw inputError(
            own,
            production,
            "vars."
                + name
                + ": '"
                + name
                + "' is a variable of the runbook, which"
                + " wins over the inventory; map the inventory variable it is made from instead");
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : own.vars.entrySet()) {
      try {
        String v = Templates.render(e.getValue(), "rehearsal.vars." + e.getKey(), model);
        out.put(e.getKey(), v.matches("-?[0-9]{1,18}") ? (Object) Long.parseLong(v) : v);
      } catch (Templates.TemplateError err) {
        throw inputError(own, production, "vars." + e.getKey() + ": " + err.getMessage());
      }
    }
    return out;
  }

  /**
   * The production path that is one directory with {@code rehearsal.dir} on a docker rehearsal
   * host, or null.
   */
  public String sharedDir(HostPlan production) {
    RehearsalSpec own = forMode(production.mode());
    if (own.sharedDir == null) return null;
    try {
      return Templates.render(own.sharedDir, "rehearsal.shared_dir", production.vars());
    } catch (Templates.TemplateError e) {
      throw inputError(own, production, "shared_dir: " + e.getMessage());
    }
  }

  private RunbookException inputError(RehearsalSpec own, HostPlan host, String why) {
    @SuppressWarnings("ReferenceEquality") // the shared section itself, not a mode's equal copy
    boolean shared = own == this;
    return new RunbookException(
        ErrorCode.INVALID_INPUT,
        file
            + ": rehearsal"
            + (shared ? "" : ".modes." + host.mode())
            + " for host '"
            + host.name()
            + "' (mode "
            + host.mode()
            + "): "
            + why
            + " (give this mode its own keys under rehearsal.modes."
            + host.mode()
            + ")");
  }

  private ForHost render(HostPlan host) {
    Map<String, Object> vars = host.vars();
    List<Backup> backups = new ArrayList<>();
    String health = null;
    for (PlannedStep s : host.steps()) {
      Object args = renderKnown(s.spec().args(), vars);
      for (Step.Backup b : backups(s.step(), args)) {
        // Only what the backup names must be known here (a volume backup's image may need the run's
        // values).
        if (!Unknown.appearsIn(b))
          backups.add(new Backup(b.dest(), b.name(), b.paths(), b.volume()));
      }
      // A probe is taken only from a step that is known whole, as it will run.
      if (health == null && s.phase() == Phase.VERIFY && !Unknown.appearsIn(args)) {
        health = probe(s.step(), args).orElse(null);
      }
    }
    LinkedHashSet<String> defaultSeed = new LinkedHashSet<>();
    LinkedHashSet<String> defaultVerify = new LinkedHashSet<>();
    for (Backup b : backups) {
      defaultSeed.addAll(b.paths());
      defaultSeed.add(b.dest());
      defaultVerify.addAll(b.paths());
    }
    return new ForHost(
        seed.isEmpty() ? List.copyOf(defaultSeed) : renderAll(seed, vars),
        restore == null ? "latest" : Templates.render(restore, "rehearsal.restore", vars),
        start == null ? null : Templates.render(start, "rehearsal.start", vars),
        this.health != null ? Templates.render(this.health, "rehearsal.health", vars) : health,
        verify.isEmpty() ? List.copyOf(defaultVerify) : renderAll(verify, vars),
        renderAll(verifyVolumes, vars),
        backups,
        redactKeys.stream()
            .map(k -> new RedactKey(Templates.render(k.file(), "rehearsal.redact", vars), k.keys()))
            .toList());
  }

  private static List<String> renderAll(List<String> templates, Map<String, Object> vars) {
    return templates.stream().map(t -> Templates.render(t, "rehearsal", vars)).toList();
  }

  /**
   * The arguments rendered value by value: one that needs a value only the run will know reads
   * {@code ⟨name⟩}, and one that cannot be rendered yet reads {@code ⟨?⟩}, so what depends on it is
   * seen as unknown and the rest is still of use.
   */
  private static Object renderKnown(Object args, Map<String, Object> vars) {
    if (args instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k, renderKnown(v, vars)));
      return out;
    }
    if (args instanceof List<?> l) return l.stream().map(v -> renderKnown(v, vars)).toList();
    try {
      return Templates.renderAll(args, "args", vars);
    } catch (RuntimeException e) {
      return "⟨?⟩";
    }
  }

  /** The backups the step says it makes with these arguments; none when they do not bind. */
  private static <A> List<Step.Backup> backups(Step<A> step, Object args) {
    return bound(step, args).map(step::backups).orElse(List.of());
  }

  private static <A> Optional<String> probe(Step<A> step, Object args) {
    return bound(step, args).flatMap(step::probe);
  }

  private static <A> Optional<A> bound(Step<A> step, Object args) {
    try {
      return Optional.ofNullable(step.bind(args));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
