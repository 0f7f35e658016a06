package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every runbook in {@code runbooks/} is run end to end by a test: a new runbook without one turns
 * the build red here. The table says which tests run each runbook; each of them must name the
 * runbook in its source.
 */
class RunbooksTestedTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path TESTS = REPO.resolve("engine/src/test/java/io/runbook");

  /** runbook → the tests (under engine/src/test/java/io/runbook) that apply it end to end. */
  static final Map<String, List<String>> TESTED_BY =
      Map.of(
          "install-sample.yaml",
              List.of(
                  "cli/LocalUpgradeTest.java",
                  "execution/FleetUpgradeIT.java",
                  "execution/SampleRunbooksIT.java"),
          "upgrade-v2.yaml",
              List.of(
                  "cli/LocalUpgradeTest.java",
                  "execution/FleetUpgradeIT.java",
                  "execution/RolloutIT.java",
                  "execution/SampleRunbooksIT.java",
                  "docker/ComposeUpgradeIT.java"),
          "patch-rollout.yaml", List.of("execution/SampleRunbooksIT.java"),
          "rollback-drill.yaml", List.of("execution/SampleRunbooksIT.java"),
          "stop-sample.yaml", List.of("execution/SampleRunbooksIT.java"),
          "backup-sample.yaml", List.of("rehearsal/RehearseIT.java"),
          "install-sample-compose.yaml", List.of("docker/ComposeUpgradeIT.java"),
          "upgrade-fleet-v2.yaml", List.of("execution/WholeServiceIT.java"));

  @Test
  void everyRunbookIsRunByATestThatNamesIt() throws IOException {
    TreeSet<String> runbooks;
    try (Stream<Path> files = Files.list(REPO.resolve("runbooks"))) {
      runbooks =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
              .collect(Collectors.toCollection(TreeSet::new));
    }
    assertThat(runbooks)
        .as("runbooks/ is where the sample runbooks live")
        .contains("upgrade-v2.yaml");
    assertThat(runbooks)
        .as("runbooks without an end-to-end test: add one, then list it in TESTED_BY")
        .isSubsetOf(TESTED_BY.keySet());
    assertThat(TESTED_BY.keySet())
        .as("TESTED_BY lists runbooks that no longer exist")
        .isSubsetOf(runbooks);
    for (Map.Entry<String, List<String>> e : TESTED_BY.entrySet()) {
      for (String test : e.getValue()) {
        Path source = TESTS.resolve(test);
        assertThat(source).as("test of " + e.getKey()).exists();
        assertThat(Files.readString(source))
            .as(test + " applies " + e.getKey())
            .contains("\"" + e.getKey() + "\"");
      }
    }
  }
}
