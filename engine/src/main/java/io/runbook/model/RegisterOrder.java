package io.runbook.model;

import io.runbook.template.Templates;
import io.runbook.template.Templates.TemplateError;
import io.runbook.template.Unknown;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A value registered by a step exists once that step ran: a forward step that uses it earlier (in
 * its name, arguments or conditions) fails on every host when it gets there. Found here, without an
 * inventory, by rendering each step in run order with every name defined except the ones registered
 * by steps still to come. Rollback handlers, the rollback phase and the gate run later and see them
 * all.
 */
final class RegisterOrder {
  private RegisterOrder() {}

  static void check(Runbook runbook, Problems problems) {
    List<String> modes =
        runbook.modes().isEmpty()
            ? Collections.singletonList(null)
            : List.copyOf(runbook.modes().keySet());
    for (String mode : modes) {
      List<StepSpec> order = new ArrayList<>();
      for (Phase phase : Phase.FORWARD) order.addAll(runbook.steps(phase, mode));
      Map<String, StepSpec> later = new LinkedHashMap<>();
      for (StepSpec s : order) {
        if (s.register() != null && !runbook.vars().containsKey(s.register()))
          later.putIfAbsent(s.register(), s);
      }
      for (StepSpec s : order) {
        Map<String, Object> before = new Defined(later.keySet());
        check(runbook.document(), s, before, later, problems);
        if (s.register() != null) later.remove(s.register());
      }
    }
  }

  private static void check(
      YamlDocument doc,
      StepSpec s,
      Map<String, Object> model,
      Map<String, StepSpec> later,
      Problems problems) {
    String label = s.describe();
    render(
        doc,
        YamlDocument.child(s.pointer(), "name"),
        label + ": name",
        later,
        problems,
        () -> Templates.render(s.name(), "name", model));
    render(
        doc,
        YamlDocument.child(s.pointer(), s.type()),
        label,
        later,
        problems,
        () -> Templates.renderAll(s.args(), s.name(), model));
    condition(doc, s, "when", s.when(), label, model, later, problems);
    // until, changed_when and failed_when run after the step: its own register exists then.
    Map<String, Object> after =
        s.register() == null ? model : new Defined(without(later.keySet(), s.register()));
    condition(doc, s, "until", s.until(), label, after, later, problems);
    condition(doc, s, "changed_when", s.changedWhen(), label, after, later, problems);
    condition(doc, s, "failed_when", s.failedWhen(), label, after, later, problems);
  }

  private static void condition(
      YamlDocument doc,
      StepSpec s,
      String key,
      String expr,
      String label,
      Map<String, Object> model,
      Map<String, StepSpec> later,
      Problems problems) {
    if (expr == null) return;
    render(
        doc,
        YamlDocument.child(s.pointer(), key),
        label + ": " + key,
        later,
        problems,
        () -> Templates.evaluate(expr, key, model));
  }

  /**
   * Reports only a use of a later-registered name; anything else is for the planner, which knows
   * more.
   */
  private static void render(
      YamlDocument doc,
      String pointer,
      String label,
      Map<String, StepSpec> later,
      Problems problems,
      Runnable render) {
    try {
      render.run();
    } catch (TemplateError e) {
      for (var r : later.entrySet()) {
        String name = r.getKey();
        String msg = e.getMessage();
        if (msg.startsWith("undefined variable '" + name + "'")
            || msg.startsWith("undefined variable '" + name + ".")
            || msg.startsWith("undefined variable '" + name + "[")) {
          problems.add(
              doc.location(pointer),
              label
                  + ": '"
                  + name
                  + "' is used before step '"
                  + r.getValue().name()
                  + "' (line "
                  + r.getValue().location().line()
                  + ") registers it: move that step earlier, or this one later");
          return;
        }
      }
    }
  }

  private static Set<String> without(Set<String> names, String name) {
    Set<String> s = new HashSet<>(names);
    s.remove(name);
    return s;
  }

  /** Every variable is defined (a stand-in) except {@code blocked}. */
  private static final class Defined extends AbstractMap<String, Object> {
    private final Set<String> blocked;

    Defined(Set<String> blocked) {
      this.blocked = Set.copyOf(blocked);
    }

    @Override
    public Object get(Object key) {
      return blocked.contains(key) ? null : Unknown.of(String.valueOf(key));
    }

    @Override
    public boolean containsKey(Object key) {
      return !blocked.contains(key);
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
      return Set.of();
    }
  }
}
