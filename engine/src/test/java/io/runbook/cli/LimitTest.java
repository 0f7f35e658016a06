package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SilentHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A {@code --limit} term that matches nothing is an input error naming it, never fewer hosts than
 * asked.
 */
class LimitTest {
  @TempDir Path tmp;
  @RegisterExtension final SilentHost host = new SilentHost();
  Path inventory;
  Path runbook;

  @BeforeEach
  void setUp() throws IOException {
    String h = "{ansible_host: 127.0.0.1, ansible_port: " + host.port() + "}";
    inventory =
        Files.writeString(
            tmp.resolve("inventory.yaml"),
            """
        eu:
          hosts:
            eu-1: %s
            eu-2: %s
        chat:
          hosts:
            chat-1: %s
        """
                .formatted(h, h, h));
    runbook =
        Files.writeString(
            tmp.resolve("rb.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: limits
        hosts: all
        phases:
          preflight:
            - name: hi
              shell: echo hi
        """);
  }

  @ParameterizedTest(name = "--limit {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "eu,chat-9     | no group or host in inventory.yaml is named 'chat-9' (did you mean 'chat-1'?)",
        "eu:chat-9     | no group or host in inventory.yaml is named 'chat-9' (did you mean 'chat-1'?)",
        "all,!chat-9   | no group or host in inventory.yaml is named 'chat-9' (did you mean 'chat-1'?)",
        "ue            | no group or host in inventory.yaml is named 'ue' (did you mean 'eu'?)",
        "db*           | no group or host in inventory.yaml matches 'db*'",
        "eu,&chat      | host pattern 'eu,&chat' selects no hosts of inventory.yaml",
      })
  void aTermThatMatchesNothingIsRefused(String limit, String expected) throws Exception {
    Path state = tmp.resolve("state");
    Run run =
        Cli.run(
            "apply",
            runbook.toString(),
            "-i",
            inventory.toString(),
            "--limit",
            limit,
            "--yes",
            "--state-dir",
            state.toString());

    assertThat(run.err())
        .contains("--limit: " + expected.replace("inventory.yaml", inventory.toString()))
        .contains("nothing was run");
    assertThat(run.code()).isEqualTo(4);
    Thread.sleep(20);
    assertThat(host.connections()).as("connections").isZero();
    assertThat(state).doesNotExist();
  }

  @Test
  void planAndInventoryRefuseItToo() {
    Run plan =
        Cli.run("plan", runbook.toString(), "-i", inventory.toString(), "--limit", "eu,chat-9");
    assertThat(plan.err())
        .contains("--limit: no group or host in " + inventory + " is named 'chat-9'");
    assertThat(plan.code()).isEqualTo(4);

    Run inv = Cli.run("inventory", "-i", inventory.toString(), "--limit", "eu,chat-9");
    assertThat(inv.err())
        .contains("--limit: no group or host in " + inventory + " is named 'chat-9'");
    assertThat(inv.code()).isEqualTo(4);
  }

  @Test
  void aLimitThatMatchesKeepsWorking() {
    Run plan =
        Cli.run("plan", runbook.toString(), "-i", inventory.toString(), "--limit", "eu,!eu-2");
    assertThat(plan.code()).as(plan.err()).isZero();
    assertThat(plan.out())
        .contains("host eu-1")
        .doesNotContain("host eu-2")
        .doesNotContain("chat-1");
  }
}
