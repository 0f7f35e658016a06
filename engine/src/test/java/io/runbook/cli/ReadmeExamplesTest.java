package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every fenced {@code yaml} example in README.md and in every page under docs/ that is a runbook, a
 * piece of one or an inventory passes {@code validate}: a whole runbook as it is; a list of steps,
 * a {@code rollout:} or a {@code rehearsal:} section inside a minimal runbook; an inventory as one.
 * The format overview's {@code [...]} and {@code {...}} placeholders become empty lists and
 * mappings. The reference lives in docs/, so that is where most examples are: the test fails if it
 * finds none there.
 */
class ReadmeExamplesTest {
  static final Path README = Path.of("../README.md");
  static final Path DOCS = Path.of("../docs");
  static final Pattern BLOCK = Pattern.compile("(?m)^```yaml\\n(.*?)^```", Pattern.DOTALL);
  static final String HEADER = "apiVersion: runbook/v1\nkind: Runbook\nname: example\nhosts: all\n";
  static final String STEP = "phases:\n  preflight:\n    - name: hi\n      shell: echo hi\n";

  @TempDir Path tmp;

  record Example(String source, int line, String kind, String yaml) {}

  static List<Example> examples() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(README));
    try (Stream<Path> s = Files.walk(DOCS)) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    List<Example> out = new ArrayList<>();
    for (Path doc : docs) {
      String text = Files.readString(doc);
      Matcher m = BLOCK.matcher(text);
      while (m.find()) {
        int line = (int) text.substring(0, m.start()).lines().count() + 1;
        String yaml = m.group(1);
        String first =
            yaml.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).findFirst().orElse("");
        String kind;
        String runbook;
        if (first.startsWith("apiVersion:")) {
          kind = "runbook";
          runbook = yaml.replace("[...]", "[]").replace("{...}", "{}");
        } else if (first.startsWith("- name:")) {
          kind = "steps";
          runbook = HEADER + "phases:\n  preflight:\n" + yaml.indent(4);
        } else if (first.startsWith("rollout:") || first.startsWith("rehearsal:")) {
          kind = "section";
          runbook = HEADER + yaml + STEP;
        } else if (first.startsWith("all:")) {
          kind = "inventory";
          runbook = yaml;
        } else {
          kind = "fragment"; // a few lines of a larger file (an inventory's host entry): nothing to
          // validate
          runbook = null;
        }
        out.add(new Example(doc.toString(), line, kind, runbook));
      }
    }
    return out;
  }

  @Test
  void everyRunbookAndInventoryExampleValidates() throws IOException {
    List<Example> examples = examples();
    assertThat(examples.stream().filter(e -> e.yaml() != null)).hasSizeGreaterThanOrEqualTo(6);
    assertThat(examples.stream().map(Example::kind))
        .contains("runbook", "steps", "section", "inventory");
    assertThat(
            examples.stream()
                .filter(e -> e.source().startsWith(DOCS.toString()))
                .map(Example::kind))
        .as("examples in docs/")
        .contains("runbook", "steps", "section", "inventory");
    List<String> failures = new ArrayList<>();
    for (Example e : examples) {
      if (e.yaml() == null) continue;
      Path file =
          tmp.resolve(
              (e.kind().equals("inventory") ? "inventory-" : "runbook-") + e.line() + ".yaml");
      Files.writeString(file, e.yaml());
      Run run = Cli.run("validate", file.toString());
      if (run.code() != 0)
        failures.add(e.source() + " line " + e.line() + " (" + e.kind() + "):\n" + run.err());
    }
    assertThat(failures).as("examples that do not validate").isEmpty();
  }
}
