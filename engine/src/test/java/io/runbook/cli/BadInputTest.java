package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.step.StepRegistry;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SilentHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every broken runbook in {@code runbooks/invalid/} is refused with exactly the messages in its
 * {@code .expected} file and exit code 4, before any host is contacted: the inventory's only host
 * is a real listening socket on loopback that must see no connection, and no journal may be
 * written. {@code {step_types}} in an expected file stands for every registered step type key,
 * sorted, so adding a step type touches no golden file.
 */
class BadInputTest {
  static final Path FIXTURES = Path.of("src/test/resources/runbooks/invalid");

  @TempDir Path tmp;
  @RegisterExtension final SilentHost host = new SilentHost();

  static Stream<Path> fixtures() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void refusedWithItsLocationAndNothingRuns(Path fixture) throws Exception {
    Path inventory = host.inventory(tmp);
    Path state = tmp.resolve("state");

    Run run =
        Cli.run(
            "apply",
            fixture.toString(),
            "-i",
            inventory.toString(),
            "--yes",
            "--state-dir",
            state.toString());

    String name = fixture.getFileName().toString();
    String expected =
        Files.readString(FIXTURES.resolve(name.replace(".yaml", ".expected")))
            .replace("{file}", fixture.toString())
            .replace("{inventory}", inventory.toString())
            .replace("{step_types}", String.join(", ", new TreeSet<>(StepRegistry.keys())))
            .strip();
    assertThat(run.err().strip()).isEqualTo(expected);
    assertThat(run.code()).isEqualTo(4);
    Thread.sleep(50);
    assertThat(host.connections()).as("connections to the host").isZero();
    assertThat(state).doesNotExist();
  }
}
