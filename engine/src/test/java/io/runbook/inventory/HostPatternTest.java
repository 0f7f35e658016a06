package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Host patterns on {@code patterns.yaml}, whose hosts in inventory order are bastion, web1, web2,
 * web10, db1, db2, web3, db3.
 */
class HostPatternTest {
  private final Inventory inventory = Fixtures.load("patterns.yaml");

  private List<String> select(String pattern) {
    return inventory.select(pattern).stream().map(Host::name).toList();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      all              | bastion web1 web2 web10 db1 db2 web3 db3
      *                | bastion web1 web2 web10 db1 db2 web3 db3
      prod             | web1 web2 web10 db1 db2
      web              | web1 web2 web10
      db1              | db1
      ungrouped        | bastion
      web?             | web1 web2 web3
      web*             | web1 web2 web10 web3
      web[1]           | web2
      web[0:1]         | web1 web2
      prod[-1]         | db2
      prod[3:]         | db1 db2
      all[0:3]         | bastion web2 web3 db3
      w*[0]            | web1
      web[1-2]         | web2 web10
      ~web[0-9]+$      | web1 web2 web10 web3
      db,staging       | db1 db2 web3 db3
      web:db           | web1 web2 web10 db1 db2
      ' web , db '     | web1 web2 web10 db1 db2
      prod:!db         | web1 web2 web10
      prod,!db         | web1 web2 web10
      !prod            | bastion web3 db3
      prod:&eu         | web2 db1
      &eu,prod         | web2 db1
      prod,!db,&eu     | web2
      db1,web1         | web1 db1
      web,web1,prod    | web1 web2 web10 db1 db2
      """)
  void selects(String pattern, String expected) {
    assertThat(select(pattern)).containsExactly(expected.split(" "));
    assertThat(inventory.patternProblems(pattern)).isEmpty();
  }

  @Test
  void aNameThatMatchesNothingIsReportedWithASuggestion() {
    assertThat(select("webb")).isEmpty();
    assertThat(inventory.patternProblems("webb"))
        .containsExactly("no group or host in patterns.yaml is named 'webb' (did you mean 'web'?)");
    assertThat(inventory.patternProblems("prod,x*"))
        .containsExactly("no group or host in patterns.yaml matches 'x*'");
  }

  @Test
  void aPatternWhoseTermsExistButLeaveNoHostIsReported() {
    assertThat(select("web,&staging")).isEmpty();
    assertThat(inventory.patternProblems("web,&staging"))
        .containsExactly("host pattern 'web,&staging' selects no hosts of patterns.yaml");
  }

  @Test
  void brokenPatternsSelectNothingRatherThanEverything() {
    assertThat(select("")).isEmpty();
    assertThat(inventory.patternProblems("  "))
        .containsExactly("host pattern is empty: use 'all', a group or a host name");
    assertThat(select("!")).isEmpty();
    assertThat(inventory.patternProblems("!"))
        .containsExactly("'!' in host pattern '!' names nothing: write !GROUP or !HOST");
    assertThat(select("~web[")).isEmpty();
    assertThat(inventory.patternProblems("~web["))
        .singleElement()
        .asString()
        .startsWith("'~web[' in host pattern '~web[' is not a valid regular expression: ");
  }
}
