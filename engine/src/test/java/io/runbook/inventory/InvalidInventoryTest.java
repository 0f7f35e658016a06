package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every broken inventory in {@code inventory/invalid/} is refused with exactly the messages of its
 * {@code .expected} file, one a line, in order; {@code {file}} in an expected file stands for the
 * inventory's file name, as messages name it. The layout is that of {@code runbooks/invalid/}
 * (BadInputTest): a new case is two files and no Java.
 */
class InvalidInventoryTest {
  static final Path FIXTURES = Path.of("src/test/resources/inventory/invalid");

  static List<Path> fixtures() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void refusedWithExactlyItsExpectedMessages(Path fixture) throws IOException {
    String name = fixture.getFileName().toString();
    Path expectedFile = FIXTURES.resolve(name.replace(".yaml", ".expected"));
    assertThat(expectedFile).as("every broken inventory has its expected messages").exists();
    String expected = Files.readString(expectedFile).replace("{file}", name).strip();

    String actual = String.join("\n", Fixtures.problems("invalid/" + name));

    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void everyExpectedFileHasItsInventory() throws IOException {
    try (Stream<Path> files = Files.list(FIXTURES)) {
      assertThat(files.filter(p -> p.toString().endsWith(".expected")))
          .allSatisfy(
              p -> assertThat(Path.of(p.toString().replace(".expected", ".yaml"))).exists());
    }
  }

  @Test
  void aConnectionRunbookDoesNotDriveLoadsAndIsNotDrivable() {
    // As in Ansible shops: one winrm or network_cli host must not refuse the whole inventory; the
    // planner refuses targeting it (PlannerTest). So this inventory is not among the broken ones.
    Host web1 = Fixtures.load("bad-connection.yaml").hosts().get("web1");
    assertThat(web1.connection()).isEqualTo("shh");
    assertThat(web1.drivable()).isFalse();
  }
}
