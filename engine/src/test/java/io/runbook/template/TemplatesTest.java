package io.runbook.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class TemplatesTest {
  @Test
  void shellSyntaxPassesThroughUntouched() {
    String shell = "for f in \"${DIR}\"/*; do echo $(basename $f) ${#f} <#if> $1; done";
    assertThat(Templates.render(shell + " [=port]", "t", Map.of("port", 8080L)))
        .isEqualTo(shell + " 8080");
  }

  @Test
  void anUndefinedVariableIsAnErrorWithASuggestion() {
    assertThatThrownBy(
            () -> Templates.render("cp db [=backup_dri]/", "t", Map.of("backup_dir", "/b")))
        .hasMessage("undefined variable 'backup_dri' (did you mean 'backup_dir'?)");
    assertThatThrownBy(() -> Templates.evaluate("v?starts_with(major)", "t", Map.of("v", "1.2")))
        .hasMessage("undefined variable 'major'");
    assertThatThrownBy(() -> Templates.render("[=svc.prot]", "t", Map.of("svc", Map.of("port", 1))))
        .hasMessage("'svc.prot' is undefined (svc has no such field)");
  }

  @Test
  void registeredValuesStandInByNameWhilePlanning() {
    Map<String, Object> model = Map.of("installed", Unknown.of("installed"), "target", "2.0.0");
    assertThat(Templates.render("from [=installed.stdout] to [=target]", "t", model))
        .isEqualTo("from ⟨installed.stdout⟩ to 2.0.0");
    assertThat(Templates.evaluate("installed.rc == 0", "t", model)).isTrue();
    assertThat(Templates.evaluate("installed.stdout?starts_with('1.')", "t", model)).isFalse();
    assertThat(Unknown.appearsIn("from ⟨installed.stdout⟩")).isTrue();
  }

  @Test
  void conditionsAreExpressions() {
    Map<String, Object> m = Map.of("r", Map.of("rc", 3L, "stdout", "ok"));
    assertThat(Templates.evaluate("r.rc == 3 && r.stdout == 'ok'", "t", m)).isTrue();
    assertThat(Templates.evaluate("false", "t", m)).isFalse();
    assertThat(Templates.render("[#if r.rc > 2]big[/#if] [=1234567]", "t", m))
        .isEqualTo("big 1234567");
  }

  @Test
  void aLoopExpressionYieldsItsValueNotItsText() {
    Map<String, Object> model = Map.of("users", List.of("alice", "bob"), "r", Unknown.of("r"));
    Assertions.assertThat(Templates.value("users", "loop", model))
        .isEqualTo(List.of("alice", "bob"));
    Assertions.assertThat(Templates.value("users + ['carol']", "loop", model))
        .isEqualTo(List.of("alice", "bob", "carol"));
    Assertions.assertThat(Templates.value("r.results", "loop", model)).isInstanceOf(Unknown.class);
    Assertions.assertThatThrownBy(() -> Templates.value("userz", "loop", model))
        .hasMessageContaining("undefined variable 'userz'")
        .hasMessageContaining("did you mean 'users'");
  }
}
