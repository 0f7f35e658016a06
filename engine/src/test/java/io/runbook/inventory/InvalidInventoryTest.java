package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One broken inventory per case under {@code inventory/invalid/}, each with its exact messages. */
class InvalidInventoryTest {

  @Test
  void misspeltGroupKey() {
    assertThat(Fixtures.problems("invalid/unknown-key.yaml"))
        .containsExactly(
            "unknown-key.yaml:6:7: unknown key 'chidren' in 'prod' (did you mean 'children'?);"
                + " expected one of: hosts, vars, children");
  }

  @Test
  void badYamlSyntax() {
    assertThat(Fixtures.problems("invalid/bad-syntax.yaml"))
        .containsExactly(
            "bad-syntax.yaml:3:5: invalid YAML: while parsing a block mapping started here: expected <block end>,"
                + " but found '<block mapping start>' (line 5, column 6)");
  }

  @Test
  void portOutOfRange() {
    assertThat(Fixtures.problems("invalid/port-out-of-range.yaml"))
        .containsExactly(
            "port-out-of-range.yaml:6:25: host 'web1': ansible_port must be an integer from 1 to 65535, not 70000");
  }

  @Test
  void duplicateKey() {
    assertThat(Fixtures.problems("invalid/duplicate-key.yaml"))
        .containsExactly("duplicate-key.yaml:7:9: duplicate key 'web1' (first at line 5)");
  }

  @Test
  void groupCycle() {
    assertThat(Fixtures.problems("invalid/cycle.yaml"))
        .containsExactly(
            "cycle.yaml:9:13: group 'a' contains itself: a → b → a; remove 'a' from the children of 'b'");
  }

  @Test
  void aConnectionRunbookDoesNotDriveLoadsAndIsNotDrivable() {
    // As in Ansible shops: one winrm or network_cli host must not refuse the whole inventory; the
    // planner
    // refuses targeting it (PlannerTest).
    Host web1 = Fixtures.load("invalid/bad-connection.yaml").hosts().get("web1");
    assertThat(web1.connection()).isEqualTo("shh");
    assertThat(web1.drivable()).isFalse();
  }

  @Test
  void variableNamesMustBeIdentifiers() {
    assertThat(Fixtures.problems("invalid/bad-var-name.yaml"))
        .containsExactly(
            "bad-var-name.yaml:3:5: group 'all': variable name 'my-var' cannot be used in templates: use letters,"
                + " digits and '_' only, not starting with a digit (e.g. 'my_var')",
            "bad-var-name.yaml:6:7: host 'web1': variable name '2nd' cannot be used in templates: use letters,"
                + " digits and '_' only, not starting with a digit (e.g. '_2nd')");
  }

  @Test
  void hostNamedLikeAGroup() {
    assertThat(Fixtures.problems("invalid/host-is-group.yaml"))
        .containsExactly(
            "host-is-group.yaml:8:9: host 'web' has the same name as group 'web' at line 3: rename one of them,"
                + " or a host pattern 'web' would mean both");
  }

  @Test
  void inventoryWithoutHosts() {
    assertThat(Fixtures.problems("invalid/no-hosts.yaml"))
        .containsExactly(
            "no-hosts.yaml:1:1: the inventory has no hosts: list them under a group's hosts, e.g. all: {hosts: {web1: }}");
    assertThat(Fixtures.problems("invalid/empty.yaml"))
        .containsExactly(
            "empty.yaml:1:1: the inventory has no hosts: list them under a group's hosts, e.g. all: {hosts: {web1: }}");
  }

  @Test
  void groupBodyAtTheTopLevel() {
    assertThat(Fixtures.problems("invalid/top-level-hosts.yaml"))
        .containsExactly(
            "top-level-hosts.yaml:1:1: top-level 'hosts' would be a group named 'hosts': hosts, vars and children"
                + " belong inside a group, e.g. under 'all:'");
  }

  @Test
  void sectionsOfTheWrongType() {
    assertThat(Fixtures.problems("invalid/wrong-types.yaml"))
        .containsExactly(
            "wrong-types.yaml:3:5: 'hosts' array found, [object, null, string] expected",
            "wrong-types.yaml:8:15: 'web3' string found, [object, null] expected",
            "wrong-types.yaml:9:13: 'vars' array found, [object, null] expected");
  }

  @Test
  void everyBadValueIsReportedInOneRun() {
    assertThat(Fixtures.problems("invalid/bad-values.yaml"))
        .containsExactly(
            "bad-values.yaml:3:21: group 'all': ansible_become must be true or false, not 'maybe'",
            "bad-values.yaml:4:19: group 'all': ansible_user must be a string, not a map",
            "bad-values.yaml:8:23: group 'web': ansible_port must be an integer from 1 to 65535, not 'ssh'",
            "bad-values.yaml:10:9: host 'web[1:x]' has an invalid range '[1:x]': both ends must be numbers or letters"
                + " of the same case, and the step at least 1",
            "bad-values.yaml:11:9: host name 'web 2' cannot be selected by a host pattern: leave out spaces and"
                + " , : ! & * ? [ ] (and a leading ~), e.g. 'web_2'",
            "bad-values.yaml:12:9: host 'web3': ansible_port must be an integer from 1 to 65535, not 0");
  }
}
