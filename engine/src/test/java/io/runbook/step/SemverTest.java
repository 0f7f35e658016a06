package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SemverTest {
  static Semver v(String s) {
    return Semver.parse(s).orElseThrow(() -> new AssertionError("not a version: " + s));
  }

  @Test
  void precedenceIsTheOneOfTheSemverSpec() {
    List<String> ordered =
        List.of(
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.9.0",
            "1.10.0",
            "1.11.0",
            "2.0.0-0",
            "2.0.0",
            "10.0.0",
            "99999999999999.0.0");
    List<Semver> shuffled = new ArrayList<>(ordered.stream().map(SemverTest::v).toList());
    Collections.shuffle(shuffled, new Random(7));
    Collections.sort(shuffled);
    assertThat(shuffled.stream().map(Semver::toString)).containsExactlyElementsOf(ordered);
  }

  @Test
  void buildMetadataAndALeadingVDoNotCount() {
    assertThat(v("v1.2.3+build.7").compareTo(v("1.2.3"))).isZero();
    assertThat(v("1.2.3-rc.1+exp.sha.5114f85")).hasToString("1.2.3-rc.1");
    assertThat(v("1.0.0-rc.9999999999999999999999").compareTo(v("1.0.0-rc.10"))).isPositive();
  }

  @Test
  void parseWantsTheWholeStringAsMajorMinorPatch() {
    for (String bad :
        List.of("2.0", "2", "2.0.0.1", "2.0.0-", "two", "2.0.0 ", "", "1.2.3-rc..1")) {
      assertThat(Semver.parse(bad.replace(" ", " x"))).as(bad).isEmpty();
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "sampled 1.2.3                                 | 1.2.3",
        "nginx version: nginx/1.22.1                   | 1.22.1",
        "go version go1.21.5 linux/amd64               | 1.21.5",
        "OpenSSL 3.0.11 19 Sep 2023 (Library: 3.0.11)  | 3.0.11",
        "psql (PostgreSQL) 15.5 (Debian 15.5-0+deb12u1) | 15.5.0",
        "build 2023.10, release v2.0.0-rc.1.           | 2.0.0-rc.1",
        "Python 3.11.2                                 | 3.11.2",
        "1.2.3.4 then 5.6.7                            | 5.6.7",
      })
  void findTakesTheFirstVersionLookingToken(String text, String version) {
    assertThat(Semver.find(text)).map(Semver::toString).contains(version);
  }

  @Test
  void findFindsNothingInTextWithoutVersions() {
    assertThat(Semver.find("command not found")).isEmpty();
    assertThat(Semver.find("10.0.0.1 is an address")).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "1.2.3, 1.2.3, none", "1.2.3, 1.2.4, patch", "1.2.3, 1.3.0, minor", "1.2.3, 2.0.0, major",
    "1.9.9, 1.10.0, minor", "2.0.0-rc.1, 2.0.0, patch", "2.0.0, 2.0.0-rc.1, downgrade",
        "2.1.0, 2.0.9, downgrade",
    "1.2.3+a, 1.2.3+b, none"
  })
  void bumpSaysHowFarTheTargetIs(String installed, String target, String bump) {
    assertThat(v(installed).bumpTo(v(target))).isEqualTo(bump);
  }
}
