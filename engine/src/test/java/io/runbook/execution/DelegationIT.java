package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SampleRuns;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delegate_to} and {@code loop} over two real OpenSSH hosts: h1 is the only target, h2
 * stands for its load balancer. A delegated step, its handler and its automatic undo change h2's
 * files, never h1's; the items of a looped step are undone each exactly once, whether by the
 * failing run or by a later {@code runbook rollback RUN_ID}, which connects to the delegate again.
 */
class DelegationIT {
  @RegisterExtension static final Fleet fleet = Fleet.of(2);

  @TempDir Path tmp;
  SampleRuns sample;
  Path inventory;
  String dir;

  @BeforeEach
  void setUp() {
    sample = new SampleRuns(fleet, tmp);
    inventory = fleet.writeInventory(tmp.resolve("inv.yaml"));
    dir = "/home/runbook/" + tmp.getFileName();
    for (int i = 0; i < 2; i++)
      fleet.host(i).exec("runuser", "-u", "runbook", "--", "mkdir", "-p", dir);
  }

  @AfterEach
  void unlock() {
    sample.clearLocks();
  }

  Path runbook() throws Exception {
    return Files.writeString(
        tmp.resolve("rb.yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: drain, change, enable
        hosts: h1
        vars:
          dir: %s
          items: [a, b, c]
        phases:
          deploy:
            - name: Drain [=inventory_hostname]
              delegate_to: h2
              shell: echo "[=inventory_hostname] on $(hostname) as [=delegate_host]" >> [=dir]/drained
              rollback:
                - name: Enable [=inventory_hostname]
                  shell: echo "[=inventory_hostname] on $(hostname)" >> [=dir]/enabled
            - name: Backend entry for [=inventory_hostname]
              delegate_to: "[=lb]"
              copy: {dest: "[=dir]/backend-[=inventory_hostname].cfg", content: "server [=inventory_hostname]\\n"}
            - name: Add [=item]
              loop: "[=items]"
              shell: test "[=item]" != "[=fail_item]" && echo "[=item] on $(hostname)" >> [=dir]/added
              rollback:
                - name: Remove [=item]
                  shell: echo "[=item]" >> [=dir]/removed
        """
            .formatted(dir));
  }

  String lines(int host, String file) {
    return fleet.host(host).exec("sh", "-c", "cat " + dir + "/" + file + " 2>/dev/null || true");
  }

  boolean exists(int host, String file) {
    return fleet
        .host(host)
        .exec("sh", "-c", "test -e " + dir + "/" + file + " && echo yes || echo no")
        .strip()
        .equals("yes");
  }

  String hostname(int host) {
    return fleet.host(host).exec("hostname").strip();
  }

  @Test
  void delegatedStepsAndTheirUndoRunOnTheDelegateAndEachFailedLoopsItemsAreUndoneOnce()
      throws Exception {
    Run run = sample.apply(runbook().toString(), inventory, "-e", "fail_item=c", "-e", "lb=h2");

    assertThat(run.code()).as(run.all()).isEqualTo(2);
    String h1 = hostname(0);
    String h2 = hostname(1);
    assertThat(lines(1, "drained")).isEqualTo("h1 on " + h2 + " as h2\n");
    assertThat(lines(1, "enabled"))
        .as("the handler ran on the delegate")
        .isEqualTo("h1 on " + h2 + "\n");
    assertThat(exists(1, "backend-h1.cfg"))
        .as("copy's own undo removed the file on the delegate")
        .isFalse();
    assertThat(exists(0, "drained") || exists(0, "enabled") || exists(0, "backend-h1.cfg"))
        .as("nothing delegated touched the target")
        .isFalse();
    assertThat(lines(0, "added")).isEqualTo("a on " + h1 + "\nb on " + h1 + "\n");
    assertThat(lines(0, "removed"))
        .as("the items that passed, undone once, last first")
        .isEqualTo("b\na\n");
    assertThat(exists(1, "added")).isFalse();
    assertThat(run.out())
        .contains("[h1 → h2] deploy     Drain h1")
        .contains("[h1 → h2] ↺ deploy   Enable h1")
        .contains("[h1] deploy     Add c")
        .contains("[h1] ↺ deploy   Remove b");
  }

  @Test
  void rollbackOfARunIdUndoesDelegatedStepsOnTheDelegateAndEveryItemOnce() throws Exception {
    Run run = sample.apply(runbook().toString(), inventory, "-e", "fail_item=none", "-e", "lb=h2");
    assertThat(run.code()).as(run.all()).isZero();
    assertThat(lines(1, "backend-h1.cfg")).isEqualTo("server h1\n");
    String id;
    try (var runs = Files.list(sample.stateDir().resolve("runs"))) {
      id = runs.findFirst().orElseThrow().getFileName().toString();
    }

    Run rollback = sample.cli("rollback", null, id);

    assertThat(rollback.code())
        .as("exit 2: hosts were rolled back; " + rollback.all())
        .isEqualTo(2);
    assertThat(rollback.out())
        .contains("[h1 → h2] ↺ deploy   delete ")
        .contains("[h1 → h2] ↺ deploy   Enable h1");
    assertThat(lines(0, "removed")).isEqualTo("c\nb\na\n");
    assertThat(exists(1, "backend-h1.cfg"))
        .as("undone on the delegate, reconnected for it")
        .isFalse();
    assertThat(lines(1, "enabled")).isEqualTo("h1 on " + hostname(1) + "\n");
    assertThat(exists(0, "enabled") || exists(0, "backend-h1.cfg")).isFalse();

    Run again = sample.cli("rollback", null, id);
    assertThat(again.code()).as(again.all()).isZero();
    assertThat(again.out()).contains("Nothing to undo");
    assertThat(lines(0, "removed")).as("nothing undone twice").isEqualTo("c\nb\na\n");
    assertThat(lines(1, "enabled")).isEqualTo("h1 on " + hostname(1) + "\n");
  }
}
