package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Install the sample service 1.2.3 on this machine (inventory/local.yaml: no SSH, no Docker) "
          + "and upgrade it to 2.0.0 with runbooks/upgrade-v2.yaml, as 'runbook apply' would.",
      "The service lives under the inventory's app_dir (/tmp/runbook-demo/sample) and is stopped at the end "
          + "unless --keep-running."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--keep-running", description = "Leave the upgraded sample service running.")
  boolean keepRunning;

  @Option(names = "--json", description = "Stream events as JSON lines.")
  boolean json;

  @Override
  public Integer call() {
    Path home = Path.of(System.getProperty("runbook.home", ".")).toAbsolutePath().normalize();
    Path inventory = home.resolve("inventory/local.yaml");
    if (!Files.exists(inventory)) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "cannot find " + inventory + ": run the demo from the runbook checkout (./runbook demo)");
    }
    CommandLine root = spec.commandLine().getParent();
    String state = home.resolve(".runbook").toString();
    spec.commandLine()
        .getOut()
        .println("== 1/2 install the sample service 1.2.3 (runbooks/install-sample.yaml)");
    int rc =
        root.execute(
            args(
                "apply",
                home.resolve("runbooks/install-sample.yaml").toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--state-dir",
                state));
    if (rc != 0) return rc;
    spec.commandLine().getOut().println();
    spec.commandLine().getOut().println("== 2/2 upgrade it to 2.0.0 (runbooks/upgrade-v2.yaml)");
    rc =
        root.execute(
            args(
                "apply",
                home.resolve("runbooks/upgrade-v2.yaml").toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--state-dir",
                state));
    if (!keepRunning) {
      root.execute(
          args(
              "apply",
              home.resolve("runbooks/stop-sample.yaml").toString(),
              "-i",
              inventory.toString(),
              "--yes",
              "--state-dir",
              state));
    }
    return rc;
  }

  private String[] args(String... a) {
    if (!json) return a;
    String[] b = Arrays.copyOf(a, a.length + 1);
    b[a.length] = "--json";
    return b;
  }
}
