package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -i NAME}: the file NAME, else {@code inventory/NAME.yaml} or {@code .yml}. */
class InventoryResolveTest {
  @TempDir Path cwd;

  private Path touch(String path) throws IOException {
    Path p = cwd.resolve(path);
    Files.createDirectories(p.getParent());
    return Files.writeString(p, "all: {hosts: {h: }}\n");
  }

  @Test
  void anExistingFileIsTakenAsIs() throws IOException {
    Path file = touch("prod");
    touch("inventory/prod.yaml");
    assertThat(InventoryLoader.resolve("prod", cwd)).isEqualTo(file);
    assertThat(InventoryLoader.resolve(file.toString(), Path.of("/"))).isEqualTo(file);
  }

  @Test
  void aNameFallsBackToTheInventoryFolder() throws IOException {
    Path yaml = touch("inventory/prod.yaml");
    Path yml = touch("inventory/staging.yml");
    touch("inventory/both.yaml");
    touch("inventory/both.yml");
    assertThat(InventoryLoader.resolve("prod", cwd)).isEqualTo(yaml);
    assertThat(InventoryLoader.resolve("staging", cwd)).isEqualTo(yml);
    assertThat(InventoryLoader.resolve("both", cwd)).isEqualTo(cwd.resolve("inventory/both.yaml"));
    assertThat(InventoryLoader.resolve("prod.yaml", cwd)).isEqualTo(yaml);
  }

  @Test
  void aDirectoryIsAnInventorySource() throws IOException {
    Path dir = Files.createDirectories(cwd.resolve("prod"));
    touch("inventory/prod.yaml");
    assertThat(InventoryLoader.resolve("prod", cwd)).isEqualTo(dir);
  }

  @Test
  void nothingFoundNamesEveryPathTried() {
    assertThatThrownBy(() -> InventoryLoader.resolve("prod", cwd))
        .isInstanceOf(RunbookException.class)
        .hasMessage(
            "inventory 'prod' not found: there is no file "
                + cwd.resolve("prod")
                + ", "
                + cwd.resolve("inventory/prod.yaml")
                + " or "
                + cwd.resolve("inventory/prod.yml")
                + "; pass the path of an inventory file or directory with -i, or create "
                + cwd.resolve("inventory/prod.yaml"))
        .satisfies(
            e -> assertThat(((RunbookException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT));
  }

  @Test
  void anAbsolutePathIsOnlyLookedForWhereItPoints() {
    Path missing = cwd.resolve("nowhere.yaml");
    assertThatThrownBy(() -> InventoryLoader.resolve(missing.toString(), cwd))
        .hasMessage(
            "inventory "
                + missing
                + " not found; pass the path of an existing inventory file or directory with -i");
  }
}
