package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delegate_to}, {@code loop} and {@code loop_var} through the CLI on {@code
 * ansible_connection: local} hosts: what is refused before any host is contacted, what plan shows,
 * which variables a delegated or looped step sees, and that every item is undone once, by the run
 * and by {@code rollback RUN_ID} together. The same over two real SSH hosts, where the delegate's
 * files are on another machine: DelegationIT.
 */
class DelegationAndLoopsTest {
  @TempDir Path tmp;
  Path inventory;
  Path work;

  @BeforeEach
  void inventory() throws Exception {
    work = Files.createDirectories(tmp.resolve("work"));
    inventory =
        Files.writeString(
            tmp.resolve("inv.yaml"),
            """
        all:
          vars: {work: %1$s}
          children:
            app:
              hosts:
                app1: {ansible_connection: local, runbook_lock_path: %2$s/lock-app1, colour: red}
                app2: {ansible_connection: local, runbook_lock_path: %2$s/lock-app2, colour: blue}
          hosts:
            lb: {ansible_connection: local, runbook_lock_path: %2$s/lock-lb, colour: green}
        """
                .formatted(work, tmp));
  }

  Path runbook(String steps) throws Exception {
    return Files.writeString(
        tmp.resolve("rb.yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: delegation and loops
        hosts: app
        vars:
          users: [alice, bob, carol]
        rollout: {serial: 1, max_fail_percentage: 100, on_failure: rollback-host}
        phases:
          deploy:
        %s
        """
            .formatted(steps.indent(4)));
  }

  Run cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--yes", "--state-dir", tmp.resolve("state").toString()));
    return Cli.run(all.toArray(String[]::new));
  }

  Run apply(Path rb, String... more) {
    List<String> args =
        new ArrayList<>(List.of("apply", rb.toString(), "-i", inventory.toString()));
    args.addAll(List.of(more));
    return cli(args.toArray(String[]::new));
  }

  List<String> lines(String file) throws Exception {
    Path p = work.resolve(file);
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  String runId() throws Exception {
    try (var s = Files.list(tmp.resolve("state/runs"))) {
      return s.findFirst().orElseThrow().getFileName().toString();
    }
  }

  @Test
  void anUnknownDelegateIsAnInputErrorWithItsPlaceBeforeAnyHostIsContacted() throws Exception {
    Path rb =
        runbook(
            """
        - name: Drain
          delegate_to: lbb
          shell: touch [=work]/drained
        """);
    Run run = apply(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(4);
    assertThat(run.err())
        .contains(rb + ":11:20: ")
        .contains("delegate_to: 'lbb' is not a host of inventory")
        .contains("did you mean 'lb'?")
        .contains("hosts 'app1', 'app2'");
    assertThat(tmp.resolve("lock-app1")).as("no host was contacted").doesNotExist();
    assertThat(work.resolve("drained")).doesNotExist();

    Run validate = Cli.run("plan", rb.toString(), "-i", inventory.toString());
    assertThat(validate.code()).isEqualTo(4);
  }

  @Test
  void wrongLoopKeysAreInputErrorsWithTheirPlaces() throws Exception {
    Path rb =
        runbook(
            """
        - name: Loop over a number
          loop: 3
          shell: "true"
        - name: Loop over text
          loop: alice bob
          shell: "true"
        - name: A loop_var alone
          loop_var: user
          shell: "true"
        - name: A loop that yields no list
          loop: "[=work]"
          shell: "true"
        """);
    Run run = apply(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(4);
    assertThat(run.err())
        .contains(
            rb
                + ":11:13: step 'Loop over a number': 'loop' must be a list, or a \"[=expression]\" that yields one; got 3")
        .contains(
            rb
                + ":14:13: step 'Loop over text': loop: a string must be one \"[=expression]\" that yields a list")
        .contains(rb + ":17:7: step 'A loop_var alone': 'loop_var' without 'loop'");
    assertThat(tmp.resolve("lock-app1")).doesNotExist();

    Path yieldsText =
        runbook(
            """
        - name: A loop that yields no list
          loop: "[=work]"
          shell: "true"
        """);
    Run text = apply(yieldsText);
    assertThat(text.code()).as(text.out() + text.err()).isEqualTo(4);
    assertThat(text.err())
        .contains(yieldsText + ":11:13: ")
        .contains("loop: [=work] yields the text \"" + work);
  }

  /**
   * A rehearsal has copies of the targets only: a step delegated elsewhere would reach a real host.
   */
  @Test
  void rehearseRefusesStepsDelegatedOutsideTheCopiesBeforeStartingAnything() throws Exception {
    Path rb =
        runbook(
            """
        - name: Drain
          delegate_to: lb
          shell: touch [=work]/drained
        """);
    Run run = rehearse(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(4);
    assertThat(run.err())
        .contains("runbook rehearse does not cover delegate_to yet")
        .contains("delegated to lb")
        .contains("Nothing was started");
    assertThat(lines("drained")).isEmpty();
    assertThat(work.resolve("drained")).doesNotExist();
  }

  /** The run-once phases' host is a host the run touches too: not a copy, refused the same way. */
  @Test
  void rehearseRefusesRunOncePhasesOutsideTheCopiesBeforeStartingAnything() throws Exception {
    Path rb = runbook("- name: Deploy\n  shell: touch [=work]/deployed\n");
    Files.writeString(
        rb,
        Files.readString(rb)
            .replace(
                "phases:\n",
                """
                before_all:
                  on: lb
                  steps:
                    - name: Drain
                      shell: touch [=work]/drained
                phases:
                """));
    Run run = rehearse(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(4);
    assertThat(run.err())
        .contains("runbook rehearse does not cover before_all/after_all on 'lb' yet")
        .contains("Nothing was started");
    assertThat(work.resolve("drained")).doesNotExist();
    assertThat(work.resolve("deployed")).doesNotExist();
  }

  private Run rehearse(Path rb) {
    return Cli.run(
        "rehearse",
        rb.toString(),
        "-i",
        inventory.toString(),
        "--state-dir",
        tmp.resolve("state").toString());
  }

  @Test
  void planShowsTheDelegateAndTheItems() throws Exception {
    Path rb =
        runbook(
            """
        - name: Drain [=inventory_hostname]
          delegate_to: lb
          shell: echo drain [=inventory_hostname] on [=delegate_host]
          rollback:
            - name: Enable [=inventory_hostname] again
              shell: echo enable
        - name: Seed users
          loop: "[=users]"
          loop_var: user
          command: [echo, "[=user]"]
        """);
    Run plan = Cli.run("plan", rb.toString(), "-i", inventory.toString());
    assertThat(plan.code()).as(plan.out() + plan.err()).isZero();
    assertThat(plan.out())
        .contains("1. Drain app1  [shell]  → on lb  echo drain app1 on lb")
        .contains("↺ rollback: Enable app1 again  [shell]  → on lb")
        .contains("2. Seed users  [command]")
        .contains("loop (user): [=users]");
  }

  @Test
  void aDelegatedStepRunsWithTheTargetsVariablesAndItsHandlerUndoesItOnTheDelegate()
      throws Exception {
    Path rb =
        runbook(
            """
        - name: Drain [=inventory_hostname]
          delegate_to: "[=balancer]"
          shell: echo "[=inventory_hostname] [=colour] [=delegate_host]" >> [=work]/drained
          rollback:
            - name: Enable [=inventory_hostname]
              shell: echo "[=inventory_hostname] [=delegate_host]" >> [=work]/enabled
        - name: Fails on app2
          shell: test "[=inventory_hostname]" != app2
        """);
    Run run = apply(rb, "-e", "balancer=lb");
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(lines("drained"))
        .as("inventory_hostname and colour are the target's")
        .containsExactly("app1 red lb", "app2 blue lb");
    assertThat(lines("enabled"))
        .as("only app2 rolled back, its handler on the delegate")
        .containsExactly("app2 lb");
    assertThat(run.out())
        .contains("[app2 → lb] deploy     Drain app2")
        .contains("[app2 → lb] ↺ deploy   Enable app2");

    Run show = Cli.run("show", runId(), "--steps", "--state-dir", tmp.resolve("state").toString());
    assertThat(show.out()).as(show.out() + show.err()).contains("Drain app2 → lb");
  }

  @Test
  void aDelegateNameKnownOnlyAtRunTimeThatIsNoHostFailsTheStepCleanly() throws Exception {
    Path rb =
        runbook(
            """
        - name: Which balancer
          shell: echo lb-[=inventory_hostname]
          register: which
        - name: Drain
          delegate_to: "[=which.stdout]"
          shell: touch [=work]/drained
        """);
    Run run = apply(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(run.out()).contains("delegate_to: 'lb-app1' is not a host of the inventory");
    assertThat(work.resolve("drained")).doesNotExist();
  }

  @Test
  void eachItemIsItsOwnStepAndAFailedItemUndoesTheEarlierItemsOnceEvenAfterRollbackRunId()
      throws Exception {
    Path rb =
        runbook(
            """
        - name: Empty loop
          loop: []
          shell: touch [=work]/never
        - name: Add [=user]
          loop: "[=users]"
          loop_var: user
          when: user != "bob" || inventory_hostname == "app1"
          shell: test "[=user]-[=inventory_hostname]" != carol-app2 && echo "[=user]" >> [=work]/[=inventory_hostname].added
          register: added
          rollback:
            - name: Remove [=user]
              shell: echo "[=user]" >> [=work]/[=inventory_hostname].removed
        - name: Count
          shell: echo "[=added.results?size] [=added.results[0].user] [=added.results?last.skipped?c]" > [=work]/[=inventory_hostname].count
        """);
    Run run = apply(rb);
    assertThat(run.code()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(work.resolve("never")).as("an empty loop is skipped").doesNotExist();
    assertThat(lines("app1.added")).containsExactly("alice", "bob", "carol");
    assertThat(lines("app1.count"))
        .as("register holds results, one per item")
        .containsExactly("3 alice false");
    assertThat(lines("app2.count")).as("app2 failed before it").isEmpty();
    assertThat(lines("app2.added"))
        .as("bob skipped by when, carol failed")
        .containsExactly("alice");
    assertThat(lines("app2.removed"))
        .as("the item that passed is undone, once")
        .containsExactly("alice");
    assertThat(run.out())
        .contains("[app1] deploy     Add alice")
        .contains("[app2] deploy     Add bob")
        .contains("skipped")
        .contains("[app2] deploy     Add carol")
        .contains("FAILED")
        .contains("[app2] ↺ deploy   Remove alice");

    Run rollback = cli("rollback", runId());
    assertThat(rollback.code()).as(rollback.out() + rollback.err()).isEqualTo(2);
    assertThat(lines("app1.removed"))
        .as("app1's items undone last first")
        .containsExactly("carol", "bob", "alice");
    assertThat(lines("app2.removed"))
        .as("app2's item is not undone a second time")
        .containsExactly("alice");

    Run again = cli("rollback", runId());
    assertThat(again.code()).as(again.out() + again.err()).isZero();
    assertThat(lines("app1.removed")).containsExactly("carol", "bob", "alice");
    String journal =
        Files.readString(tmp.resolve("state/runs").resolve(runId()).resolve("journal.jsonl"));
    assertThat(journal)
        .contains("\"undo\":\"2.3:1\"")
        .contains("\"undo\":\"2.1:1\"")
        .contains("\"iteration\":2");
  }
}
