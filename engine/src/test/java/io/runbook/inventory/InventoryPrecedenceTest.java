package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Variable precedence, on {@code precedence.yaml}: all < group < child group < host, same depth by
 * name.
 */
class InventoryPrecedenceTest {
  private final Inventory inventory = Fixtures.load("precedence.yaml");

  @Test
  void childGroupOverridesParentAndAllOverridesNothing() {
    Map<String, Object> db1 = inventory.hosts().get("db1").vars();
    assertThat(db1)
        .containsEntry("level", "prod")
        .containsEntry("only_all", "from-all")
        .containsEntry("mode", "binary");
    assertThat(inventory.hosts().get("web2").vars()).containsEntry("level", "web");
  }

  @Test
  void hostVarsOverrideEveryGroup() {
    assertThat(inventory.hosts().get("web1").vars()).containsEntry("level", "host");
  }

  @Test
  void groupsAtTheSameDepthApplyAlphabeticallyNotInFileOrder() {
    // alpha, prod and zulu are all at depth 1; alpha comes last in the file but applies first.
    Map<String, Object> web2 = inventory.hosts().get("web2").vars();
    assertThat(web2).containsEntry("color", "zulu").containsEntry("region", "zulu-region");
    assertThat(inventory.hosts().get("web2").groups())
        .containsExactly("all", "alpha", "prod", "zulu", "web");
  }

  @Test
  void depthIsTheLongestChainFromAll() {
    // canary is written at the top level but is also web's child: depth 3, so it beats web (depth
    // 2).
    assertThat(inventory.groups().get("canary").parents()).containsExactly("web");
    assertThat(inventory.hosts().get("web1").vars()).containsEntry("tier", "canary");
    assertThat(inventory.hosts().get("web1").groups())
        .containsExactly("all", "prod", "zulu", "web", "canary");
  }

  @Test
  void aHostListedTwiceMergesItsVarsAndTheLaterDefinitionWins() {
    assertThat(inventory.hosts().get("web1").vars())
        .containsEntry("defined", "second")
        .containsEntry("first_only", "kept");
  }

  @Test
  void mapsAreReplacedNotMerged() {
    assertThat(inventory.hosts().get("db1").vars().get("settings")).isEqualTo(Map.of("a", 10L));
    assertThat(inventory.hosts().get("bastion").vars().get("settings"))
        .isEqualTo(Map.of("a", 1L, "b", 2L));
  }

  @Test
  void mergedVarsOfOneHostInFull() {
    assertThat(inventory.hosts().get("web1").vars())
        .containsExactly(
            entry("level", "host"),
            entry("only_all", "from-all"),
            entry("region", "zulu-region"),
            entry("settings", Map.of("a", 10L)),
            entry("mode", "binary"),
            entry("color", "zulu"),
            entry("tier", "canary"),
            entry("defined", "second"),
            entry("first_only", "kept"));
  }
}
