package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every numeric option out of its range is one usage error, exit 4, naming the option and the
 * range, before anything is read or run (the state directory stays empty).
 */
class OptionRangesTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "apply     | --forks               | 0    | --forks must be a whole number from 1 to 1000 (hosts in parallel), not 0",
        "apply     | --forks               | -3   | --forks must be a whole number from 1 to 1000 (hosts in parallel), not -3",
        "apply     | --max-fail-percentage | -1   | --max-fail-percentage must be a whole number from 0 to 100 (a percentage of a batch's hosts), not -1",
        "apply     | --max-fail-percentage | 150  | --max-fail-percentage must be a whole number from 0 to 100 (a percentage of a batch's hosts), not 150",
        "plan      | --max-fail-percentage | 101  | --max-fail-percentage must be a whole number from 0 to 100",
        "apply     | --connect-timeout     | 0    | --connect-timeout must be a whole number from 1 to 86400 (seconds), not 0",
        "apply     | --connect-timeout     | -5   | --connect-timeout must be a whole number from 1 to 86400 (seconds), not -5",
        "apply     | --lock-lease          | 0    | --lock-lease must be a whole number at least 1 (seconds), not 0",
        "apply     | --lock-lease          | -1   | --lock-lease must be a whole number at least 1 (seconds), not -1",
        "rehearse  | --forks               | 0    | --forks must be a whole number from 1 to 1000",
        "rehearse  | --hosts-per-mode      | 0    | --hosts-per-mode must be a whole number from 1 to 1000",
        "rehearse  | --connect-timeout     | -1   | --connect-timeout must be a whole number from 1 to 86400",
        "history   | -n                    | -1   | --last must be a whole number at least 0 (runs to show; 0 for all), not -1",
        "history   | --last                | -20  | --last must be a whole number at least 0",
      })
  void outOfRangeIsAUsageError(String command, String option, String value, String expected) {
    List<String> args = new ArrayList<>(List.of(command));
    if (!command.equals("history"))
      args.addAll(List.of(tmp.resolve("r.yaml").toString(), "-i", "prod"));
    args.addAll(List.of(option, value, "--state-dir", tmp.resolve("state").toString()));
    if (command.equals("apply")) args.add("--yes");

    Run run = Cli.run(args.toArray(String[]::new));

    assertThat(run.err())
        .contains("runbook: " + expected)
        .contains("Try 'runbook " + command + " --help'");
    assertThat(run.code()).isEqualTo(4);
    assertThat(tmp.resolve("state")).doesNotExist();
  }
}
