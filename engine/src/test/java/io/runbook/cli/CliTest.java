package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine through the CLI, on this machine ({@code ansible_connection: local}): variables,
 * templating, conditions, retries, time-outs, rollback order and exit codes, checked on real files
 * and the journal.
 */
class CliTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  Path inventory;
  Path work;

  @BeforeEach
  void inventory() throws Exception {
    work = Files.createDirectories(tmp.resolve("work"));
    inventory = tmp.resolve("inv.yaml");
    Files.writeString(
        inventory,
        """
        all:
          vars: {who: all, work: %s, runbook_lock_path: %s/lock}
          children:
            app:
              vars: {who: group, level: group}
              children:
                app_eu:
                  vars: {who: child}
                  hosts:
                    one: {ansible_connection: local, who_host: one}
                    two: {ansible_connection: local, who_host: two}
        """
            .formatted(work, tmp));
  }

  Path runbook(String body) throws Exception {
    Path f = tmp.resolve("rb.yaml");
    Files.writeString(f, "apiVersion: runbook/v1\nkind: Runbook\nname: test\nhosts: app\n" + body);
    return f;
  }

  Run apply(Path runbook, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "apply",
                runbook.toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--state-dir",
                tmp.resolve("state").toString()));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  List<JsonNode> journal() throws Exception {
    Path dir;
    try (var s = Files.list(tmp.resolve("state/runs"))) {
      dir = s.findFirst().orElseThrow();
    }
    List<JsonNode> events = new ArrayList<>();
    for (String l : Files.readAllLines(dir.resolve("journal.jsonl"))) events.add(JSON.readTree(l));
    return events;
  }

  @Test
  void variablesFollowPrecedenceAndShellSyntaxPassesThrough() throws Exception {
    Path rb =
        runbook(
            """
        vars: {level: runbook, extra: runbook}
        phases:
          deploy:
            - name: Write what each host sees
              shell: echo "[=who] [=level] [=extra] [=who_host] ${HOME:+home} $(echo sub) [=run.id?length > 0]" > "[=work]/[=inventory_hostname]"
        """);

    Run run = apply(rb, "-e", "extra=cli");

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(Files.readString(work.resolve("one")).strip())
        .isEqualTo("child runbook cli one home sub true");
    assertThat(Files.readString(work.resolve("two")).strip())
        .isEqualTo("child runbook cli two home sub true");
  }

  @Test
  void conditionsRegisterRetriesAndChangedWhen() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          deploy:
            - name: Count attempts
              shell: n=$(cat "[=work]/n-[=inventory_hostname]" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "[=work]/n-[=inventory_hostname]"; echo $n
              register: attempt
              retries: 5
              until: attempt.stdout == "3"
              changed_when: false
            - name: Only on one
              shell: touch "[=work]/only-[=inventory_hostname]"
              when: inventory_hostname == "one"
            - name: A failure that is expected
              shell: exit 3
              failed_when: result.rc != 3
        """);

    Run run = apply(rb);

    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(Files.readString(work.resolve("n-one")).strip()).isEqualTo("3");
    assertThat(work.resolve("only-one")).exists();
    assertThat(work.resolve("only-two")).doesNotExist();
    JsonNode first =
        journal().stream()
            .filter(e -> e.path("event").asText().equals("step_finished"))
            .findFirst()
            .orElseThrow();
    assertThat(first.path("result").path("status").asText()).isEqualTo("OK");
    assertThat(first.path("result").path("attempts").asInt()).isEqualTo(3);
  }

  @Test
  void aFailureUndoesCompletedStepsLastFirstThenTheRollbackPhase() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          backup:
            - name: First
              shell: echo first >> "[=work]/log-[=inventory_hostname]"
              rollback:
                - name: Undo first
                  shell: echo undo-first >> "[=work]/log-[=inventory_hostname]"
            - name: Write a config
              copy: {content: "new\\n", dest: "[=work]/config-[=inventory_hostname]"}
          deploy:
            - name: Second
              shell: echo second >> "[=work]/log-[=inventory_hostname]"
              rollback:
                - name: Undo second a
                  shell: echo undo-second-a >> "[=work]/log-[=inventory_hostname]"
                - name: Undo second b
                  shell: echo undo-second-b >> "[=work]/log-[=inventory_hostname]"
            - name: Skipped
              shell: echo skipped >> "[=work]/log-[=inventory_hostname]"
              when: false
              rollback:
                - name: Undo skipped
                  shell: echo undo-skipped >> "[=work]/log-[=inventory_hostname]"
          verify:
            - name: Fails on two
              shell: '[ "[=inventory_hostname]" != two ]'
          rollback:
            - name: Rollback phase
              shell: echo phase >> "[=work]/log-[=inventory_hostname]"
        """);
    Files.writeString(work.resolve("config-two"), "old\n");

    Run run = apply(rb);

    assertThat(run.code()).as(run.out()).isEqualTo(2);
    assertThat(Files.readAllLines(work.resolve("log-two")))
        .containsExactly(
            "first", "second", "undo-second-a", "undo-second-b", "undo-first", "phase");
    assertThat(Files.readString(work.resolve("config-two"))).isEqualTo("old\n");
    assertThat(Files.readAllLines(work.resolve("log-one"))).containsExactly("first", "second");
    assertThat(Files.readString(work.resolve("config-one"))).isEqualTo("new\n");
    assertThat(run.out())
        .containsPattern("one\\s+-\\s+ok")
        .containsPattern("two\\s+-\\s+rolled back");
  }

  @Test
  void handlerAndRollbackPhaseNamesShowTheValuesRegisteredByThen() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          backup:
            - name: Read the release
              shell: echo 1.2.3
              register: previous
              rollback:
                - name: Point back at [=previous.stdout]
                  shell: "true"
          verify:
            - name: Fails
              shell: "false"
          rollback:
            - name: "[=previous.stdout] answers again"
              shell: "true"
        """);

    Run run = apply(rb, "--limit", "one");

    assertThat(run.code()).as(run.out()).isEqualTo(2);
    assertThat(run.out())
        .contains("Point back at 1.2.3")
        .contains("1.2.3 answers again")
        .doesNotContain("⟨");
    assertThat(journal())
        .filteredOn(
            e -> e.path("event").asText().equals("step_finished") && e.path("rollback").asBoolean())
        .extracting(e -> e.path("name").asText())
        .containsExactly("Point back at 1.2.3", "1.2.3 answers again");
  }

  @Test
  void aFailingHandlerStopsTheRollbackAndExitsThree() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          backup:
            - name: First
              shell: "true"
              rollback:
                - name: Undo first
                  shell: touch "[=work]/undo-first"
            - name: Second
              shell: "true"
              rollback:
                - name: Undo second fails
                  shell: echo disk full >&2; exit 1
          verify:
            - name: Fails
              shell: exit 1
        """);

    Run run = apply(rb, "--limit", "one");

    assertThat(run.code()).isEqualTo(3);
    assertThat(work.resolve("undo-first")).as("not run after a failed handler").doesNotExist();
    assertThat(run.out())
        .contains("ROLLBACK FAILED")
        .contains("not undone: First ← Undo first")
        .contains("disk full")
        .containsPattern("one\\s+-\\s+rollback failed");
  }

  @Test
  void aStepTimeOutFailsTheStepAndKillsTheCommand() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          deploy:
            - name: Hangs
              shell: sleep 30.0417; touch "[=work]/finished"
              timeout: 1s
        """);
    long t0 = System.nanoTime();

    Run run = apply(rb, "--limit", "one");

    assertThat(run.code()).isEqualTo(2);
    assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(20);
    assertThat(run.out()).contains("timed out");
    // the command's processes are gone, not merely left behind: nothing can touch 'finished' later
    assertThat(Processes.running("sleep 30.0417"))
        .as("the timed-out command's processes")
        .isEmpty();
    assertThat(work.resolve("finished")).doesNotExist();
  }

  @Test
  void aFailedCleanupKeepsTheUpgradeAndExitsOne() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          deploy:
            - name: Upgrade
              shell: touch "[=work]/upgraded"
              rollback:
                - name: Undo
                  shell: rm "[=work]/upgraded"
          cleanup:
            - name: Prune
              shell: exit 1
        """);

    Run run = apply(rb, "--limit", "one");

    assertThat(run.code()).isEqualTo(1);
    assertThat(work.resolve("upgraded")).exists();
    assertThat(run.out()).containsPattern("one\\s+-\\s+cleanup failed");
  }

  @Test
  void withoutATerminalApplyRefusesToStartUnlessYes() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          deploy:
            - name: Touch
              shell: touch "[=work]/touched"
        """);

    Run run =
        Cli.run(
            "apply",
            rb.toString(),
            "-i",
            inventory.toString(),
            "--state-dir",
            tmp.resolve("state").toString());

    assertThat(run.code()).isEqualTo(4);
    assertThat(run.err()).contains("no terminal to confirm on: pass --yes");
    assertThat(work.resolve("touched")).doesNotExist();
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void jsonStreamsTheJournalsEvents() throws Exception {
    Path rb =
        runbook(
            """
        phases:
          deploy:
            - name: Hello
              command: [echo, hello]
              register: hello
        """);

    Run run = apply(rb, "--json", "--limit", "one");

    assertThat(run.code()).isZero();
    List<String> lines = run.out().strip().lines().toList();
    List<String> journal = journal().stream().map(JsonNode::toString).toList();
    assertThat(lines).hasSameSizeAs(journal);
    List<String> types =
        lines.stream()
            .map(
                l -> {
                  try {
                    return JSON.readTree(l).path("event").asText();
                  } catch (Exception e) {
                    throw new AssertionError(l, e);
                  }
                })
            .toList();
    assertThat(types)
        .containsExactly(
            "run_started",
            "host_started",
            "lock_changed",
            "batch_started",
            "step_started",
            "step_finished",
            "host_finished",
            "batch_finished",
            "lock_changed",
            "run_finished");
    assertThat(JSON.readTree(lines.get(5)).path("result").path("stdout").asText())
        .isEqualTo("hello\n");
  }

  @Test
  void planShowsModeStepsAndHandlersWithoutConnecting() throws Exception {
    Files.writeString(
        inventory,
        """
        all:
          hosts:
            far: {ansible_host: 192.0.2.1, ansible_user: deploy, mode: binary, dir: /srv}
        """);
    Path rb =
        Files.writeString(
            tmp.resolve("plan.yaml"),
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: planned
        hosts: all
        modes:
          binary:
            backup:
              - name: Back up [=dir]
                shell: cp -a [=dir]/data [=dir]/data.bak
                rollback:
                  - name: Restore [=dir]
                    shell: cp -a [=dir]/data.bak/. [=dir]/data
            deploy:
              - name: Config
                copy: {content: "x", dest: "[=dir]/config"}
            rollback:
              - name: Check health
                http: {url: "http://127.0.0.1/_health"}
        """);

    Run run = Cli.run("plan", rb.toString(), "-i", inventory.toString());

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("host far (deploy@192.0.2.1:22) · mode binary")
        .contains("1. Back up /srv  [shell]  cp -a /srv/data /srv/data.bak")
        .contains("↺ rollback: Restore /srv  [shell]")
        .contains("2. Config  [copy]")
        .contains("↺ rollback: automatic (the copy step's own undo)")
        .contains("- Check health  [http]");
  }

  @Test
  void validateReportsEveryProblemOfEveryFile() throws Exception {
    Path bad1 = BadInputTest.FIXTURES.resolve("unknown-step-key.yaml");
    Path bad2 = BadInputTest.FIXTURES.resolve("bad-duration.yaml");
    Path good = Path.of("../runbooks/upgrade-v2.yaml");

    Run run =
        Cli.run(
            "validate",
            bad1.toString(),
            good.toString(),
            bad2.toString(),
            "../inventory/prod.yaml");

    assertThat(run.code()).isEqualTo(4);
    assertThat(run.err())
        .contains("unknown-step-key.yaml:8:7:")
        .contains("bad-duration.yaml:10:14:")
        .contains("2 problem(s)");
    Run ok =
        Cli.run(
            "validate",
            good.toString(),
            "../runbooks/install-sample.yaml",
            "../inventory/prod.yaml");
    assertThat(ok.code()).as(ok.err()).isZero();
  }

  @Test
  void inventoryListsMergedVariables() {
    Run run = Cli.run("inventory", "-i", inventory.toString(), "--json");
    assertThat(run.code()).isZero();
    assertThat(run.out()).contains("\"who\" : \"child\"").contains("\"level\" : \"group\"");
  }

  @Test
  void schemaPrintsEveryStepType() throws Exception {
    Run run = Cli.run("schema");
    assertThat(run.code()).isZero();
    JsonNode schema = JSON.readTree(run.out());
    assertThat(schema.at("/$defs/step/properties/shell").isObject()).isTrue();
    assertThat(schema.at("/$defs/step/properties/http/properties/url").isObject()).isTrue();
  }

  /**
   * resume and rollback hash the runbook before planning: a FIFO in its place must not hang them.
   */
  @Test
  void undoingARunWhoseRunbookBecameAFifoIsRefusedInsteadOfHanging() throws Exception {
    Path rb = runbook("phases:\n  deploy:\n    - name: hi\n      shell: echo hi\n");
    assertThat(apply(rb, "--limit", "one").code()).isZero();
    String id;
    try (var s = Files.list(tmp.resolve("state/runs"))) {
      id = s.findFirst().orElseThrow().getFileName().toString();
    }
    Files.delete(rb);
    assertThat(new ProcessBuilder("mkfifo", rb.toString()).start().waitFor()).isZero();

    Run undo =
        Assertions.assertTimeoutPreemptively(
            Duration.ofSeconds(10),
            () -> Cli.run("rollback", id, "--yes", "--state-dir", tmp.resolve("state").toString()));
    assertThat(undo.err())
        .contains(rb + " is no longer a regular file (a directory, FIFO or device)");
    assertThat(undo.code()).isEqualTo(4);
  }
}
