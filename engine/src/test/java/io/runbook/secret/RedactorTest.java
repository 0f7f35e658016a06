package io.runbook.secret;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.event.RunStarted;
import io.runbook.event.StepFinished;
import io.runbook.journal.EventJson;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactorTest {
  static Redactor redactor(Map<String, Object> vars, List<String> declared) {
    return new SecretValues().addVars(vars, declared).redactor();
  }

  @Test
  void secretNamesFollowTheRuleAndTheDeclaredList() {
    for (String n :
        List.of(
            "db_password",
            "DB_PASSWD",
            "client_secret",
            "github_token",
            "stripe_api_key",
            "apikey",
            "ssh_private_key",
            "ansible_become_password")) {
      assertThat(SecretValues.isSecretName(n, List.of())).as(n).isTrue();
    }
    for (String n :
        List.of(
            "db_host",
            "password_file",
            "ansible_ssh_private_key_file",
            "passage",
            "tokenizer_path")) {
      assertThat(SecretValues.isSecretName(n, List.of())).as(n).isFalse();
    }
    assertThat(SecretValues.isSecretName("license_code", List.of("license_code"))).isTrue();
  }

  @Test
  void valuesAreMaskedInsideTextLongestFirstAndInTheirQuotedForms() {
    Redactor r =
        redactor(
            Map.of(
                "db_password",
                "it's-s3cret",
                "api_token",
                "s3cret",
                "db",
                Map.of("password", "nested-pw"),
                "plain",
                "visible-value",
                "license",
                "Lic-1234"),
            List.of("license"));
    assertThat(r.text("psql 'it'\\''s-s3cret' && echo s3cret nested-pw visible-value Lic-1234"))
        .isEqualTo("psql '***' && echo *** *** visible-value ***");
    assertThat(r.text("{\"pw\":\"it's-s3cret\"} ?t=it%27s-s3cret"))
        .isEqualTo("{\"pw\":\"***\"} ?t=***");
    assertThat(r.text("s3cre")).isEqualTo("s3cre");
  }

  @Test
  void shortValuesAreNotMaskedButNamed() {
    SecretValues s =
        new SecretValues()
            .addVars(Map.of("pin_token", "123", "db_password", "longer-one"), List.of());
    assertThat(s.tooShort()).containsExactly("pin_token");
    assertThat(s.redactor().text("123 longer-one")).isEqualTo("123 ***");
  }

  @Test
  void eventsAreRebuiltWithEveryTextMaskedButTheUndoStateKeptForItsPrivateFile() throws Exception {
    Redactor r = redactor(Map.of("api_token", "tok-abcdef", "db_password", 987654321L), List.of());
    StepResult result =
        new StepResult(
            Status.FAILED,
            3,
            "out tok-abcdef",
            "err 987654321",
            "exit code 3: tok-abcdef",
            Map.of(
                "json",
                new ObjectMapper().readTree("{\"t\":\"tok-abcdef\",\"n\":987654321}"),
                "list",
                List.of("tok-abcdef", 987654321L),
                "_previous",
                "tok-abcdef"),
            12,
            1);
    StepFinished e =
        new StepFinished(
            Instant.now(),
            "web1",
            "deploy",
            2,
            "use tok-abcdef",
            "shell",
            false,
            null,
            null,
            result);
    StepFinished m = (StepFinished) r.event(e);
    assertThat(m.name()).isEqualTo("use ***");
    assertThat(m.result().stdout()).isEqualTo("out ***");
    assertThat(m.result().stderr()).isEqualTo("err ***");
    assertThat(m.result().message()).isEqualTo("exit code 3: ***");
    assertThat(m.result().rc()).isEqualTo(3);
    assertThat(m.result().data().get("_previous")).isEqualTo("tok-abcdef");
    String json = EventJson.line(m);
    assertThat(json).doesNotContain("tok-abcdef").doesNotContain("987654321");

    RunStarted.Request req =
        new RunStarted.Request(
            "/rb.yaml",
            "/inv.yaml",
            null,
            Map.of("db_password", 987654321L, "note", "x tok-abcdef"),
            List.of(),
            0,
            "rollback_host",
            "sha",
            Instant.now());
    RunStarted started =
        new RunStarted(
            Instant.now(),
            "id",
            "rb",
            "name",
            "inv",
            List.of("web1"),
            1,
            "u",
            "c",
            List.of(List.of("web1")),
            req);
    assertThat(EventJson.line(r.event(started)))
        .doesNotContain("tok-abcdef")
        .doesNotContain("987654321")
        .contains("\"db_password\":\"***\"");
    assertThat(Redactor.none().event(started)).isSameAs(started);
  }
}
