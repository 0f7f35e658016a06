package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Await;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host that dies mid-step: one clear error naming it, a rollback attempt, and the documented exit
 * code.
 */
class HostLossIT {
  @TempDir Path tmp;

  @Test
  void aHostKilledMidStepFailsClearlyAndNeedsAPerson() throws Exception {
    try (SshHost host = SshHost.start("doomed")) {
      Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), host.knownHostsLine() + "\n");
      Path inv =
          Files.writeString(
              tmp.resolve("inv.yaml"),
              """
          all:
            hosts:
              doomed: {ansible_host: %s, ansible_port: %d, ansible_user: %s, ansible_ssh_private_key_file: %s}
          """
                  .formatted(host.host(), host.port(), host.user(), host.privateKey()));
      Path rb =
          Files.writeString(
              tmp.resolve("rb.yaml"),
              """
          apiVersion: runbook/v1
          kind: Runbook
          name: long step
          hosts: all
          phases:
            backup:
              - name: Mark the host
                shell: touch /tmp/marked
                rollback:
                  - name: Unmark the host
                    shell: rm -f /tmp/marked
            deploy:
              - name: A long migration
                shell: sleep 120
                timeout: 60s
          """);
      // Killed once the step runs, not after a fixed time: on a loaded machine the run may not have
      // reached it (then preflight finds the host dead, which is another test). Should it never
      // get there, the run ends at the step's time-out and the time check below fails.
      CompletableFuture<Void> killer =
          CompletableFuture.runAsync(
              () -> {
                Await.until(
                    Duration.ofSeconds(90),
                    "the long step runs on the host",
                    () ->
                        host.exec("sh", "-c", "pgrep -f '[s]leep 120' >/dev/null && echo yes; true")
                            .contains("yes"));
                host.kill();
              });
      long t0 = System.nanoTime();

      Run run =
          Cli.runMerged(
              "apply",
              rb.toString(),
              "-i",
              inv.toString(),
              "--yes",
              "--known-hosts",
              knownHosts.toString(),
              "--state-dir",
              tmp.resolve("state").toString());

      int code = run.code();
      String text = run.out();
      System.out.println(text);
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      assertThat(killer).as("the host was killed mid-step").isDone();
      assertThat(seconds).as("well within the step time-out").isLessThan(45);
      assertThat(code).as(text).isEqualTo(3);
      assertThat(text)
          .contains("[doomed]")
          .contains("lost the connection while a command was running")
          .contains("ROLLBACK FAILED")
          .contains("not undone")
          .containsPattern("doomed\\s+-\\s+rollback failed")
          .doesNotContain("Exception\n\tat ");
    }
  }
}
