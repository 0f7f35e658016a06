package io.runbook.rehearsal;

import io.runbook.execution.HostPlan;
import io.runbook.execution.PlannedStep;
import io.runbook.model.Phase;
import io.runbook.model.Runbook;
import io.runbook.template.Templates;
import io.runbook.template.Unknown;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The runbook's {@code rehearsal:} section (every key optional), as templates. {@link #forHost} renders it
 * with a production host's variables and fills the defaults from the runbook's own steps.
 */
public record RehearsalSpec(List<String> seed, String restore, String start, String health, List<String> verify,
    List<String> redact, Map<String, RehearsalSpec> modes, String file) {

  /** What to do on one host, rendered. {@code health} may be null (no probe: downtime is not measured). */
  public record ForHost(List<String> seed, String restore, String start, String health, List<String> verify,
      List<Backup> backups) {}

  /** Where a backup step of the runbook writes: {@code DEST/<run id>/NAME.tar.gz}. */
  public record Backup(String dest, String name, List<String> paths) {}

  @SuppressWarnings("unchecked")
  public static RehearsalSpec of(Runbook runbook) {
    Object root = runbook.document().root();
    Map<String, Object> r = root instanceof Map<?, ?> m && m.get("rehearsal") instanceof Map<?, ?> s
        ? (Map<String, Object>) s : Map.of();
    return of(r, runbook.file());
  }

  @SuppressWarnings("unchecked")
  private static RehearsalSpec of(Map<String, Object> r, String file) {
    Map<String, RehearsalSpec> modes = new java.util.LinkedHashMap<>();
    if (r.get("modes") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> modes.put(String.valueOf(k), of(v instanceof Map<?, ?> vm ? (Map<String, Object>) vm : Map.of(), file)));
    }
    return new RehearsalSpec(strings(r.get("seed")), (String) r.get("restore"), (String) r.get("start"),
        (String) r.get("health"), strings(r.get("verify")), strings(r.get("redact")), modes, file);
  }

  /** This spec with a mode's own keys ({@code rehearsal.modes.<mode>}) over the shared ones. */
  RehearsalSpec forMode(String mode) {
    RehearsalSpec m = mode == null ? null : modes.get(mode);
    if (m == null) return this;
    return new RehearsalSpec(m.seed.isEmpty() ? seed : m.seed, m.restore == null ? restore : m.restore,
        m.start == null ? start : m.start, m.health == null ? health : m.health,
        m.verify.isEmpty() ? verify : m.verify, m.redact.isEmpty() ? redact : m.redact, Map.of(), file);
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
      throw new io.runbook.RunbookException(io.runbook.ErrorCode.INVALID_INPUT, file + ": rehearsal"
          + (own == this ? "" : ".modes." + host.mode()) + " for host '" + host.name() + "' (mode " + host.mode()
          + "): " + e.getMessage() + " (give this mode its own keys under rehearsal.modes." + host.mode() + ")");
    }
  }

  private ForHost render(HostPlan host) {
    Map<String, Object> vars = host.vars();
    List<Backup> backups = new ArrayList<>();
    String health = null;
    for (PlannedStep s : host.steps()) {
      Object args = render(s.spec().args(), vars);
      if (args == null || !(args instanceof Map<?, ?> a)) continue;
      if (s.type().equals("backup") && a.get("dest") != null && a.get("paths") instanceof List<?> paths) {
        backups.add(new Backup(String.valueOf(a.get("dest")), a.get("name") == null ? "backup" : String.valueOf(a.get("name")),
            paths.stream().map(String::valueOf).toList()));
      }
      if (health == null && s.phase() == Phase.VERIFY && s.type().equals("http") && a.get("url") != null) {
        health = String.valueOf(a.get("url"));
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
        backups);
  }

  private static List<String> renderAll(List<String> templates, Map<String, Object> vars) {
    return templates.stream().map(t -> Templates.render(t, "rehearsal", vars)).toList();
  }

  /** The arguments rendered, or null when they need values only the run will know. */
  private static Object render(Object args, Map<String, Object> vars) {
    try {
      Object r = Templates.renderAll(args, "args", vars);
      return Unknown.appearsIn(r) ? null : r;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
