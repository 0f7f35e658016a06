package io.runbook.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every relative link in README.md, ARCHITECTURE.md and docs/ reaches a file of the checkout, and
 * every {@code #anchor} a heading of its page (GitHub's anchors), so moving a section cannot leave
 * a dead link behind.
 */
class DocsLinksTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /**
   * Pages the whole-service upgrade work brings from other branches; README and docs/README.md link
   * them.
   */
  static final Set<String> PENDING =
      Set.of(
          "docs/whole-service-upgrades.md",
          "docs/run-once-phases.md",
          "docs/delegation-and-loops.md",
          "docs/haproxy-step.md");

  static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
  static final Pattern HEADING = Pattern.compile("(?m)^#{1,6} (.+)$");

  @Test
  void everyRelativeLinkAndAnchorResolves() throws IOException {
    List<Path> pages =
        new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("ARCHITECTURE.md")));
    try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    List<String> dead = new ArrayList<>();
    int checked = 0;
    for (Path page : pages) {
      Matcher m = LINK.matcher(prose(Files.readString(page, StandardCharsets.UTF_8)));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("[a-z]+:.*")) continue; // http:, https:, mailto:
        checked++;
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path to = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
        String name = ROOT.relativize(to).toString();
        if (!Files.exists(to)) {
          if (!PENDING.contains(name))
            dead.add(ROOT.relativize(page) + ": " + target + " (no such file)");
        } else if (hash >= 0 && !anchors(to).contains(target.substring(hash + 1))) {
          dead.add(ROOT.relativize(page) + ": " + target + " (no such heading in " + name + ")");
        }
      }
    }
    assertThat(checked).as("links checked").isGreaterThan(30);
    assertThat(dead).as("dead links").isEmpty();
  }

  @Test
  void anchorsAreGitHubs() {
    assertThat(slug("Templates: `[=var]`, not `${var}`")).isEqualTo("templates-var-not-var");
    assertThat(slug("The `compose` mode of `upgrade-v2.yaml`"))
        .isEqualTo("the-compose-mode-of-upgrade-v2yaml");
    assertThat(slug("`ansible_connection: docker`")).isEqualTo("ansible_connection-docker");
  }

  static Set<String> anchors(Path page) throws IOException {
    Set<String> out = new HashSet<>();
    Matcher m = HEADING.matcher(prose(Files.readString(page, StandardCharsets.UTF_8)));
    while (m.find()) out.add(slug(m.group(1)));
    return out;
  }

  /**
   * GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
   */
  static String slug(String heading) {
    return heading
        .strip()
        .toLowerCase(Locale.ROOT)
        .replaceAll("[^\\p{L}\\p{N} _-]", "")
        .replace(' ', '-');
  }

  /** The page without its fenced code blocks, where neither links nor headings are. */
  static String prose(String markdown) {
    return markdown.replaceAll("(?ms)^```.*?^```", "");
  }
}
