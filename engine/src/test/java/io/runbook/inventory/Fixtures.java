package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.yaml.Problem;
import io.runbook.yaml.Problems;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Loads inventories from {@code src/test/resources/inventory/}, named in messages by file name
 * only.
 */
final class Fixtures {
  private Fixtures() {}

  static Path path(String name) {
    URL url = Fixtures.class.getResource("/inventory/" + name);
    assertThat(url).as("fixture inventory/" + name).isNotNull();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Inventory load(String name) {
    Problems problems = new Problems();
    Optional<Inventory> inventory = InventoryLoader.load(path(name), fileName(name), problems);
    assertThat(problems.sorted()).as("problems of " + name).isEmpty();
    return inventory.orElseThrow();
  }

  /** Every problem of an inventory that must not load, as {@code file:line:col: message}. */
  static List<String> problems(String name) {
    Problems problems = new Problems();
    Optional<Inventory> inventory = InventoryLoader.load(path(name), fileName(name), problems);
    assertThat(inventory).as(name + " must not load").isEmpty();
    return problems.sorted().stream().map(Problem::toString).toList();
  }

  private static String fileName(String name) {
    return name.substring(name.lastIndexOf('/') + 1);
  }
}
