package io.runbook.execution;

import io.runbook.inventory.Host;
import io.runbook.inventory.Inventory;
import io.runbook.model.Phase;
import io.runbook.model.RunOnce;
import io.runbook.model.Runbook;
import io.runbook.model.StepBinding;
import io.runbook.model.StepSpec;
import io.runbook.step.Step;
import io.runbook.step.StepRegistry;
import io.runbook.template.Templates;
import io.runbook.template.Templates.TemplateError;
import io.runbook.template.Unknown;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problem;
import io.runbook.yaml.Problems;
import io.runbook.yaml.Suggestions;
import io.runbook.yaml.YamlDocument;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Resolves a runbook against an inventory: which hosts, which mode, which variables, which steps.
 * Every template is rendered for every host (registered values stand in as {@link Unknown}), so an
 * undefined variable is reported with its {@code file:line:col} before any host is contacted.
 */
public final class Planner {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final Runbook runbook;
  private final Inventory inventory;
  private final String inventoryName;
  private final Problems problems = new Problems();

  /** Stands for the hosts a problem applies to, filled in once every host was planned. */
  private static final String HOSTS = "\u0000hosts\u0000";

  /** The same problem on many hosts is reported once, naming them all: not 8 lines for 8 hosts. */
  private final Map<Problem, Set<String>> perHost = new LinkedHashMap<>();

  /** Forward steps by the name they register: a use before that step is reported as such. */
  private final Map<String, StepSpec> registeredBy = new LinkedHashMap<>();

  /**
   * The hosts the host being planned delegates to; every inventory host when a name is known only
   * at run time.
   */
  private final Map<String, Host> delegates = new LinkedHashMap<>();

  private boolean delegatesUnknown;

  public Planner(Runbook runbook, Inventory inventory, String inventoryName) {
    this.runbook = runbook;
    this.inventory = inventory;
    this.inventoryName = inventoryName;
  }

  /** A run id that sorts by time, to the millisecond: {@code 20261121-210501-042c}. */
  public static String newRunId(Instant now) {
    return STAMP.format(now)
        + "-"
        + String.format("%03d", now.toEpochMilli() % 1000)
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(16));
  }

  /**
   * Plans a run of the runbook over the inventory's matching hosts.
   *
   * @param limit an extra inventory pattern intersected with the runbook's {@code hosts}, or null
   * @param extraVars {@code -e} variables, highest precedence
   * @throws io.runbook.yaml.Problems.InvalidInputException listing every problem found
   */
  public Plan plan(String limit, Map<String, Object> extraVars, String runId, Instant now) {
    List<Host> targets = inventory.select(runbook.hosts());
    if (targets.isEmpty()) {
      problems.add(
          runbook.document().location("/hosts"),
          "hosts: '"
              + runbook.hosts()
              + "' matches no host in inventory "
              + inventoryName
              + " (groups: "
              + String.join(", ", new TreeSet<>(inventory.groups().keySet()))
              + ")");
    }
    if (limit != null) {
      // A term that names nothing is a typo until shown otherwise ('eu,chat-9' ran on eu alone):
      // refuse
      // it with a suggestion rather than run on fewer hosts than asked.
      List<String> wrong = inventory.patternProblems(limit);
      wrong.forEach(w -> problems.add(Location.of("--limit"), w));
      if (!wrong.isEmpty()) targets = List.of();
    }
    if (limit != null && !limit.isBlank() && !targets.isEmpty()) {
      Set<String> allowed = new HashSet<>();
      inventory.select(limit).forEach(h -> allowed.add(h.name()));
      targets = targets.stream().filter(h -> allowed.contains(h.name())).toList();
      if (targets.isEmpty()) {
        problems.add(
            Location.of("--limit"),
            "'" + limit + "' leaves no host of '" + runbook.hosts() + "' to run on");
      }
    }
    for (Host h : targets) {
      if (!h.drivable()) {
        problems.add(
            h.location(),
            "host '"
                + h.name()
                + "' uses ansible_connection '"
                + h.connection()
                + "', which runbook does not drive"
                + Suggestions.didYouMean(h.connection(), List.of("ssh", "local", "docker"))
                + " (it drives ssh, local and docker): leave it out with --limit '!"
                + h.name()
                + "' or narrow hosts: '"
                + runbook.hosts()
                + "'");
      }
    }
    Map<String, Object> facts = facts(runId, now);
    List<HostPlan> hosts = new ArrayList<>();
    for (Host host : targets) {
      HostPlan hp = planHost(host, extraVars, facts);
      if (hp != null) hosts.add(hp);
    }
    HostPlan once = planOnce(extraVars, facts);
    perHost.forEach(
        (p, names) -> problems.add(p.location(), p.message().replace(HOSTS, hosts(names))));
    problems.throwIfAny();
    return new Plan(runId, now, runbook, inventoryName, hosts, inventory.secretValues(), once);
  }

  /**
   * The run-once phases as one plan on the host their {@code on} names ({@code once@db}):
   * before_all steps numbered first, after_all steps after them, rendered with that host's
   * variables. Null when the runbook has none, or when {@code on} is wrong (reported).
   */
  private HostPlan planOnce(Map<String, Object> extraVars, Map<String, Object> run) {
    List<RunOnce> phases = runbook.runOnce();
    if (phases.isEmpty()) return null;
    Host on = null;
    // every wrong on: is reported, not only the first
    List<Host> resolved = phases.stream().map(this::onHost).toList();
    if (resolved.contains(null)) return null;
    for (int i = 0; i < phases.size(); i++) {
      RunOnce p = phases.get(i);
      Host h = resolved.get(i);
      if (on != null && !on.name().equals(h.name())) {
        problems.add(
            runbook.document().location(YamlDocument.child(p.pointer(), "on")),
            p.phase().key()
                + ": on: '"
                + p.on()
                + "' is host '"
                + h.name()
                + "', but before_all runs on '"
                + on.name()
                + "': both run-once phases run on the same host (one locked session for the whole run)");
        return null;
      }
      on = h;
    }
    Map<String, Object> vars = variables(on, null, extraVars, run);
    if (vars == null) return null;
    Map<String, Object> model = new LinkedHashMap<>(vars);
    registeredBy.clear();
    Set<String> names = new LinkedHashSet<>();
    for (RunOnce p : phases) {
      for (StepSpec s : p.steps()) {
        if (s.register() != null && !vars.containsKey(s.register()))
          registeredBy.putIfAbsent(s.register(), s);
        if (s.register() != null) names.add(s.register());
        if (s.rollback() != null)
          s.rollback().stream()
              .filter(h -> h.register() != null)
              .forEach(h -> names.add(h.register()));
      }
    }
    for (String r : names) if (!registeredBy.containsKey(r)) model.putIfAbsent(r, Unknown.of(r));
    List<PlannedStep> steps = new ArrayList<>();
    int index = 0;
    delegates.clear();
    delegatesUnknown = false;
    for (RunOnce p : phases) {
      for (StepSpec s : p.steps()) {
        steps.add(planStep(on, p.phase(), ++index, s, model));
        if (s.register() != null) {
          registeredBy.remove(s.register());
          model.putIfAbsent(s.register(), Unknown.of(s.register()));
        }
      }
    }
    registeredBy.clear();
    if (delegatesUnknown) {
      inventory.hosts().values().stream()
          .filter(Host::drivable)
          .forEach(h -> delegates.putIfAbsent(h.name(), h));
    }
    return new HostPlan(
        on, null, vars, steps, List.of(), List.of(), HostPlan.ONCE + on.name(), delegates);
  }

  /**
   * The host a run-once phase's {@code on} names: exactly one inventory host, or the controller.
   */
  private Host onHost(RunOnce p) {
    Location at = runbook.document().location(YamlDocument.child(p.pointer(), "on"));
    if (p.onController()) {
      return new Host(RunOnce.CONTROLLER, Map.of("ansible_connection", "local"), List.of(), at);
    }
    List<String> wrong = inventory.patternProblems(p.on());
    if (!wrong.isEmpty()) {
      wrong.forEach(w -> problems.add(at, p.phase().key() + ": on: " + w));
      return null;
    }
    List<Host> found = inventory.select(p.on());
    if (found.size() != 1) {
      problems.add(
          at,
          p.phase().key()
              + ": on: '"
              + p.on()
              + "' matches "
              + (found.isEmpty()
                  ? "no host"
                  : found.size()
                      + " hosts ("
                      + String.join(", ", found.stream().map(Host::name).limit(5).toList())
                      + (found.size() > 5 ? ", ..." : "")
                      + ")")
              + " in inventory "
              + inventoryName
              + ": name exactly one host, or 'controller' to run on this machine");
      return null;
    }
    Host h = found.get(0);
    if (!h.drivable()) {
      problems.add(
          at,
          p.phase().key()
              + ": on: host '"
              + h.name()
              + "' uses ansible_connection '"
              + h.connection()
              + "', which runbook does not drive (it drives ssh, local and docker)");
      return null;
    }
    return h;
  }

  private static String hosts(Set<String> names) {
    List<String> quoted = names.stream().map(n -> "'" + n + "'").toList();
    return (quoted.size() == 1 ? "host " : "hosts ") + String.join(", ", quoted);
  }

  private void hostProblem(Location at, String message, Host host) {
    perHost.computeIfAbsent(new Problem(at, message), k -> new LinkedHashSet<>()).add(host.name());
  }

  private static Map<String, Object> facts(String runId, Instant now) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("id", runId);
    run.put("timestamp", DateTimeFormatter.ISO_INSTANT.format(now));
    run.put("date", DateTimeFormatter.BASIC_ISO_DATE.withZone(ZoneOffset.UTC).format(now));
    run.put("user", System.getProperty("user.name"));
    return run;
  }

  private HostPlan planHost(Host host, Map<String, Object> extraVars, Map<String, Object> run) {
    String modeVar = runbook.modeVariable();
    String mode = host.mode(modeVar).orElse(null);
    if (!runbook.modes().isEmpty()) {
      Object raw = host.vars().get(modeVar);
      String modes = String.join(", ", runbook.modes().keySet());
      if (raw == null) {
        problems.add(
            host.location(),
            "host '"
                + host.name()
                + "' has no '"
                + modeVar
                + "' variable, but runbook "
                + runbook.file()
                + " is written per mode ("
                + modes
                + "): set "
                + modeVar
                + " in the inventory");
        return null;
      }
      if (mode == null || !runbook.modes().containsKey(mode)) {
        // The inventory may use the name for something else (a file mode, say): say so rather than
        // guess.
        String other = modeVar.equals("mode") ? "deploy_mode" : "mode";
        problems.add(
            host.location(),
            "host '"
                + host.name()
                + "' has "
                + modeVar
                + " "
                + shown(raw)
                + ", which is not a mode of runbook "
                + runbook.file()
                + " (it has: "
                + modes
                + ")"
                + "; if the inventory uses '"
                + modeVar
                + "' for something else, set mode_variable: "
                + other
                + " in the runbook and "
                + other
                + " on the hosts");
        return null;
      }
    }
    Map<String, Object> vars = variables(host, mode, extraVars, run);
    if (vars == null) return null;
    // A value registered by a forward step exists only after that step: before it, it is undefined
    // (and
    // said to be registered later). Rollback and gate steps run after the forward steps: they see
    // all.
    Map<String, Object> model = new LinkedHashMap<>(vars);
    delegates.clear();
    delegatesUnknown = false;
    registeredBy.clear();
    for (Phase phase : Phase.FORWARD) {
      for (StepSpec s : runbook.steps(phase, mode)) {
        if (s.register() != null && !vars.containsKey(s.register()))
          registeredBy.putIfAbsent(s.register(), s);
      }
    }
    for (String r : runbook.registeredNames()) {
      if (!registeredBy.containsKey(r)) model.putIfAbsent(r, Unknown.of(r));
    }

    List<PlannedStep> steps = new ArrayList<>();
    int index = 0;
    for (Phase phase : Phase.FORWARD) {
      for (StepSpec s : runbook.steps(phase, mode)) {
        steps.add(planStep(host, phase, ++index, s, model));
        if (s.register() != null) model.putIfAbsent(s.register(), Unknown.of(s.register()));
        if (s.rollback() != null) {
          s.rollback().stream()
              .filter(h -> h.register() != null)
              .forEach(h -> model.putIfAbsent(h.register(), Unknown.of(h.register())));
        }
      }
    }
    registeredBy.clear();
    for (String r : runbook.registeredNames()) model.putIfAbsent(r, Unknown.of(r));
    List<PlannedStep> rollback = new ArrayList<>();
    for (StepSpec s : runbook.steps(Phase.ROLLBACK, mode)) {
      rollback.add(planStep(host, Phase.ROLLBACK, 0, s, model));
    }
    List<PlannedStep> gate = new ArrayList<>();
    for (StepSpec s : runbook.rollout().gate()) {
      gate.add(planStep(host, Phase.GATE, 0, s, model));
    }
    if (delegatesUnknown) {
      inventory.hosts().values().stream()
          .filter(Host::drivable)
          .forEach(h -> delegates.putIfAbsent(h.name(), h));
    }
    return new HostPlan(host, mode, vars, steps, rollback, gate, delegates);
  }

  private static String shown(Object v) {
    return v instanceof String s
        ? "'" + s + "'"
        : v instanceof Map ? "(a map)" : v instanceof List ? "(a list)" : String.valueOf(v);
  }

  /**
   * Inventory vars < runbook vars < extra vars, plus facts; runbook vars may use inventory vars.
   */
  private Map<String, Object> variables(
      Host host, String mode, Map<String, Object> extraVars, Map<String, Object> run) {
    Map<String, Object> vars = new LinkedHashMap<>(host.vars());
    vars.putAll(runbook.vars());
    vars.putAll(extraVars);
    vars.put("inventory_hostname", host.name());
    if (mode != null) vars.put(runbook.modeVariable(), mode);
    vars.put("run", run);
    boolean ok = true;
    for (String key : List.copyOf(vars.keySet())) {
      Object value = vars.get(key);
      if (!(value instanceof String s) || !Templates.isTemplate(s)) continue;
      try {
        vars.put(key, Templates.renderAll(value, key, vars));
      } catch (TemplateError e) {
        Location at =
            runbook.vars().containsKey(key) && !extraVars.containsKey(key)
                ? runbook.document().location(YamlDocument.child("/vars", key))
                : host.location();
        hostProblem(at, "variable '" + key + "' for " + HOSTS + ": " + e.getMessage(), host);
        ok = false;
      }
    }
    return ok ? vars : null;
  }

  private PlannedStep planStep(
      Host host, Phase phase, int index, StepSpec spec, Map<String, Object> model) {
    Step<?> step = StepRegistry.find(spec.type()).orElseThrow();
    YamlDocument doc = runbook.document();
    String label = spec.describe() + " on " + HOSTS;
    String argsPointer = YamlDocument.child(spec.pointer(), spec.type());
    String preview = null;
    boolean autoUndo = spec.rollback() == null && step.undoable();
    String name = spec.name();
    String delegate = null;
    if (spec.delegateTo() != null || spec.loop() != null) {
      model = new LinkedHashMap<>(model);
      if (spec.delegateTo() != null) {
        delegate = delegate(host, spec, model, label);
        model.put(
            "delegate_host",
            delegate == null || Unknown.appearsIn(delegate)
                ? Unknown.of("delegate_host")
                : delegate);
      }
      // each item is known when its iteration runs; the plan checks the templates around it
      if (spec.loop() != null) {
        checkLoop(host, spec, model, label);
        model.put(spec.loopVar(), Unknown.of(spec.loopVar()));
      }
    }
    try {
      name = Templates.render(spec.name(), "name", model);
    } catch (TemplateError e) {
      hostProblem(
          doc.location(YamlDocument.child(spec.pointer(), "name")),
          label + ": name: " + explain(e),
          host);
    }
    try {
      Object rendered = Templates.renderAll(spec.args(), spec.name(), model);
      preview = preview(rendered);
      // Arguments built from registered values are bound when they are known, at run time.
      if (!Unknown.appearsIn(rendered)) {
        autoUndo = autoUndo && bindUndoable(step, rendered, argsPointer, label, host, model);
      }
    } catch (TemplateError e) {
      hostProblem(doc.location(argsPointer), label + ": " + explain(e), host);
    }
    checkCondition(spec.when(), "when", spec, label, model, host);
    checkCondition(spec.until(), "until", spec, label, withResult(spec, model), host);
    checkCondition(spec.changedWhen(), "changed_when", spec, label, withResult(spec, model), host);
    checkCondition(spec.failedWhen(), "failed_when", spec, label, withResult(spec, model), host);

    List<PlannedStep> handlers = new ArrayList<>();
    if (spec.rollback() != null) {
      // Handlers run after their step completed: its registered value exists.
      Map<String, Object> after =
          spec.register() == null ? model : withRegister(model, spec.register());
      for (StepSpec h : spec.rollback()) handlers.add(planStep(host, phase, 0, h, after));
    }
    return new PlannedStep(
        phase, index, name, spec, step, preview, List.copyOf(handlers), autoUndo, delegate);
  }

  /**
   * The host a step is delegated to, rendered with the target's variables: a name the plan knows
   * must be an inventory host (else an input error, before any connection); one built from
   * registered values is checked when the step runs.
   */
  private String delegate(Host host, StepSpec spec, Map<String, Object> model, String label) {
    Location at = runbook.document().location(YamlDocument.child(spec.pointer(), "delegate_to"));
    String name;
    try {
      name = Templates.render(spec.delegateTo(), "delegate_to", model).strip();
    } catch (TemplateError e) {
      hostProblem(at, label + ": delegate_to: " + explain(e), host);
      return null;
    }
    if (Unknown.appearsIn(name)) {
      delegatesUnknown = true;
      return name;
    }
    Host d = inventory.hosts().get(name);
    if (d == null) {
      hostProblem(
          at,
          label
              + ": delegate_to: '"
              + name
              + "' is not a host of inventory "
              + inventoryName
              + Suggestions.didYouMean(name, inventory.hosts().keySet()),
          host);
      return null;
    }
    if (!d.drivable()) {
      hostProblem(
          at,
          label
              + ": delegate_to: host '"
              + name
              + "' uses ansible_connection '"
              + d.connection()
              + "', which runbook does not drive (it drives ssh, local and docker)",
          host);
      return null;
    }
    delegates.put(name, d);
    return name;
  }

  /**
   * A loop's expression must yield a list where the plan can tell; its items' templates must
   * render.
   */
  private void checkLoop(Host host, StepSpec spec, Map<String, Object> model, String label) {
    Location at = runbook.document().location(YamlDocument.child(spec.pointer(), "loop"));
    try {
      if (spec.loopExpression() == null) {
        Templates.renderAll(spec.loop(), "loop", model);
        return;
      }
      Object v = Templates.value(spec.loopExpression(), "loop", model);
      if (!(v instanceof Unknown) && !(v instanceof List<?>)) {
        hostProblem(
            at, label + ": loop: " + spec.loop() + " yields " + kind(v) + ", not a list", host);
      }
    } catch (TemplateError e) {
      hostProblem(at, label + ": loop: " + explain(e), host);
    }
  }

  static String kind(Object v) {
    if (v == null) return "nothing";
    if (v instanceof String s)
      return "the text \"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
    if (v instanceof Map) return "a mapping";
    if (v instanceof Number || v instanceof Boolean) return "the value " + v;
    return "a " + v.getClass().getSimpleName();
  }

  /** Binds the arguments (reporting problems); whether the bound step can undo itself. */
  private <A> boolean bindUndoable(
      Step<A> step,
      Object rendered,
      String argsPointer,
      String label,
      Host host,
      Map<String, Object> model) {
    Problems found = new Problems();
    boolean undoable =
        StepBinding.bind(step, rendered, runbook.document(), argsPointer, label, found, model)
            .map(step::undoable)
            .orElse(true);
    found.sorted().forEach(p -> hostProblem(p.location(), p.message(), host));
    return undoable;
  }

  private static Map<String, Object> withRegister(Map<String, Object> model, String name) {
    Map<String, Object> m = new LinkedHashMap<>(model);
    m.putIfAbsent(name, Unknown.of(name));
    return m;
  }

  /** An undefined variable that a later step registers: say so, rather than suggest a spelling. */
  private String explain(TemplateError e) {
    String msg = e.getMessage();
    for (var r : registeredBy.entrySet()) {
      if (msg.startsWith("undefined variable '" + r.getKey() + "'")
          || msg.startsWith("undefined variable '" + r.getKey() + ".")
          || msg.startsWith("undefined variable '" + r.getKey() + "[")) {
        return "'"
            + r.getKey()
            + "' is used before step '"
            + r.getValue().name()
            + "' (line "
            + r.getValue().location().line()
            + ") registers it: move that step earlier, or this one later";
      }
    }
    return msg;
  }

  private static Map<String, Object> withResult(StepSpec spec, Map<String, Object> model) {
    Map<String, Object> m = new LinkedHashMap<>(model);
    m.put("result", Unknown.of("result"));
    if (spec.register() != null) m.put(spec.register(), Unknown.of(spec.register()));
    return m;
  }

  private void checkCondition(
      String expr, String key, StepSpec spec, String label, Map<String, Object> model, Host host) {
    if (expr == null) return;
    try {
      Templates.evaluate(expr, key, model);
    } catch (TemplateError e) {
      hostProblem(
          runbook.document().location(YamlDocument.child(spec.pointer(), key)),
          label + ": " + key + ": " + explain(e),
          host);
    }
  }

  /** One line saying what the step will do, for plans. */
  private static final Pattern CREDENTIAL_HEADER =
      Pattern.compile("(?i).*(auth|cookie|token|secret|key|password|session).*");

  private static String preview(Object args) {
    String s;
    if (args instanceof String str) s = str;
    else if (args instanceof List<?> l)
      s = String.join(" ", l.stream().map(String::valueOf).toList());
    else if (args instanceof Map<?, ?> m && !m.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      m.forEach(
          (k, v) -> {
            if (sb.length() > 0) sb.append(", ");
            // credentials (a pull's auth, a password var) never reach the console
            String key = String.valueOf(k).toLowerCase(Locale.ROOT);
            String val =
                key.equals("auth")
                        || key.contains("password")
                        || key.contains("secret")
                        || key.contains("token")
                    ? "***"
                    : key.equals("headers") && v instanceof Map<?, ?> h
                        ? headers(h)
                        : String.valueOf(v);
            sb.append(k)
                .append('=')
                .append(val.contains("\n") ? "<" + val.lines().count() + " lines>" : val);
          });
      s = sb.toString();
    } else s = "";
    // not cut short here: plan masks secret values first, then shortens (a cut value would not be
    // found)
    return s.replaceAll("\\s*\\R\\s*", " ⏎ ").strip();
  }

  /**
   * Request headers with the values of credential headers (Authorization, Cookie, X-Api-Key...)
   * masked.
   */
  private static String headers(Map<?, ?> headers) {
    Map<Object, Object> shown = new LinkedHashMap<>();
    headers.forEach(
        (k, v) -> shown.put(k, CREDENTIAL_HEADER.matcher(String.valueOf(k)).matches() ? "***" : v));
    return shown.toString();
  }
}
