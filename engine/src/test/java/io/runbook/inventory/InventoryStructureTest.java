package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.yaml.Location;
import org.junit.jupiter.api.Test;

/** How the YAML layout becomes groups and hosts, including what Ansible adds implicitly. */
class InventoryStructureTest {
  private final Inventory inventory = Fixtures.load("precedence.yaml");

  @Test
  void groupsAndHostsKeepFileOrderWithAllFirst() {
    assertThat(inventory.source()).isEqualTo("precedence.yaml");
    assertThat(inventory.groups().keySet())
        .containsExactly("all", "canary", "prod", "web", "db", "zulu", "alpha", "ungrouped");
    assertThat(inventory.hosts().keySet()).containsExactly("bastion", "web1", "web2", "db1");
  }

  @Test
  void topLevelGroupsAreChildrenOfAllUnlessAnotherGroupListsThem() {
    assertThat(inventory.groups().get("all").children())
        .containsExactly("prod", "zulu", "alpha", "ungrouped");
    assertThat(inventory.groups().get("zulu").parents()).containsExactly("all");
    assertThat(inventory.groups().get("web").parents()).containsExactly("prod");
  }

  @Test
  void hostsOnlyInAllAreUngrouped() {
    assertThat(inventory.hosts().get("bastion").groups()).containsExactly("all", "ungrouped");
    assertThat(inventory.groups().get("ungrouped").hosts()).containsExactly("bastion");
  }

  @Test
  void groupsKeepTheirOwnVarsAndDirectHosts() {
    Group web = inventory.groups().get("web");
    assertThat(web.hosts()).containsExactly("web1", "web2");
    assertThat(web.children()).containsExactly("canary");
    assertThat(web.vars()).containsOnlyKeys("level", "tier");
    assertThat(web.location()).isEqualTo(new Location("precedence.yaml", 23, 9));
    assertThat(inventory.hostsOf("prod"))
        .extracting(Host::name)
        .containsExactly("web1", "web2", "db1");
  }

  @Test
  void aGroupUnderSeveralParentsIsMerged() {
    Group zulu = inventory.groups().get("zulu");
    assertThat(zulu.hosts()).containsExactly("web2", "web1");
    assertThat(inventory.hosts().get("web1").location())
        .isEqualTo(new Location("precedence.yaml", 28, 13));
  }

  @Test
  void rangesAndPortSuffixesExpandAsInAnsible() {
    Inventory connection = Fixtures.load("connection.yaml");
    assertThat(connection.hosts().keySet()).contains("web01", "web02", "web03", "db-a", "db-b");
    assertThat(connection.hosts().get("web02").port()).isEqualTo(2201);
    assertThat(connection.hosts().get("db-b").port()).isEqualTo(22);
  }

  @Test
  void rangesWithStepsAndSeveralBrackets() {
    assertThat(HostRanges.expand("n[1:5:2]-[a:b]"))
        .containsExactly("n1-a", "n1-b", "n3-a", "n3-b", "n5-a", "n5-b");
    assertThat(HostRanges.expand("web[08:10]")).containsExactly("web08", "web09", "web10");
    assertThat(HostRanges.expand("plain")).containsExactly("plain");
  }
}
