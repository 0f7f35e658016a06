package io.runbook.result;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepResultTest {
  @Test
  void aStatusReadsTheSameInEveryLocale() {
    Locale before = Locale.getDefault();
    // Turkish lower-cases 'I' to a dotless 'ı': "FAILED" would become "faıled" and no failed_when
    // would match.
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      assertThat(StepResult.failed("boom").registered()).containsEntry("status", "failed");
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void undoStateNeverLeavesTheStep() throws Exception {
    StepResult r =
        StepResult.changed("wrote /etc/app.conf")
            .withData(Map.of("dest", "/etc/app.conf", "_previous_content_base64", "c2VjcmV0"));

    String json = new ObjectMapper().writeValueAsString(r);

    assertThat(json)
        .contains("\"dest\":\"/etc/app.conf\"")
        .doesNotContain("c2VjcmV0")
        .doesNotContain("_previous");
    assertThat(r.registered()).containsKey("dest").doesNotContainKey("_previous_content_base64");
    assertThat(r.data()).containsKey("_previous_content_base64");
  }

  @Test
  void outputKeepsItsTail() {
    String big = "x".repeat(StepResult.TAIL) + "END";
    StepResult r = new StepResult(Status.OK, 0, big, null, null, Map.of(), 0, 1);
    assertThat(r.stdout()).endsWith("END").hasSize(StepResult.TAIL + 1);
  }
}
