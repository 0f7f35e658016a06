package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.yaml.Location;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ansible_* accessors of {@link Host}, on {@code connection.yaml}. */
class HostTest {
  private final Inventory inventory = Fixtures.load("connection.yaml");

  @Test
  void defaultsAreThoseOfSsh() {
    Host plain = inventory.hosts().get("plain");
    assertThat(plain.connection()).isEqualTo("ssh");
    assertThat(plain.address()).isEqualTo("plain");
    assertThat(plain.port()).isEqualTo(22);
    assertThat(plain.user()).isNull();
    assertThat(plain.privateKey()).isEmpty();
    assertThat(plain.mode()).isEmpty();
    assertThat(plain.become()).isFalse();
    assertThat(plain.becomeUser()).isEqualTo("root");
  }

  @Test
  void everyVariableSet() {
    Host full = inventory.hosts().get("full");
    assertThat(full.connection()).isEqualTo("ssh");
    assertThat(full.address()).isEqualTo("10.0.0.5");
    assertThat(full.port()).isEqualTo(2222);
    assertThat(full.user()).isEqualTo("deploy");
    assertThat(full.mode()).contains("compose");
    assertThat(full.become()).as("ansible_become: yes, as Ansible reads it").isTrue();
    assertThat(full.becomeUser()).isEqualTo("app");
  }

  @Test
  void tildeInTheKeyPathIsTheHomeDirectory() {
    Path home = Path.of(System.getProperty("user.home"));
    assertThat(inventory.hosts().get("full").privateKey())
        .contains(home.resolve(".ssh/id_ed25519"));
  }

  @Test
  void aRelativeKeyPathIsRelativeToTheInventoryFile() {
    Host relative = inventory.hosts().get("relative");
    Path dir = Fixtures.path("connection.yaml").getParent();
    assertThat(relative.privateKey()).contains(dir.resolve("keys/deploy"));
    assertThat(relative.privateKey().orElseThrow()).isAbsolute();
    assertThat(relative.connection()).isEqualTo("local");
    assertThat(relative.port()).as("a quoted port, as Ansible accepts").isEqualTo(2200);
    assertThat(relative.become()).isFalse();
  }

  @Test
  void ansiblePluginNamesMapToOurConnections() {
    Host container = inventory.hosts().get("container");
    assertThat(container.connection()).isEqualTo("docker");
    assertThat(container.address()).isEqualTo("app-container");
  }

  @Test
  void aHandBuiltHostWithABadValueFailsWithItsLocation() {
    Host bad =
        new Host("x", Map.of("ansible_port", 0L), List.of("all"), new Location("hand.yaml", 3, 5));
    assertThatThrownBy(bad::port)
        .isInstanceOf(RunbookException.class)
        .hasMessage(
            "hand.yaml:3:5: host 'x': ansible_port must be an integer from 1 to 65535, not '0'")
        .satisfies(
            e -> assertThat(((RunbookException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT));
  }
}
