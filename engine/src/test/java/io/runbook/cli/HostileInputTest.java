package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SilentHost;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hostile-input corpus ({@code src/test/resources/hostile/cases.txt}): recursive aliases,
 * "billion laughs", deep nesting, non-UTF-8 bytes, FIFOs, devices, directories, files of megabytes,
 * template bombs. Each runs the real CLI ({@code apply --yes}) and must end in one exit-4 message
 * at its place, within a time bound, with no stack trace, no connection to the inventory's host (a
 * listening loopback socket) and no state written.
 */
class HostileInputTest {
  static final Path CORPUS = Path.of("src/test/resources/hostile");

  /** Generous for a shared 2-core machine; the cases that used to fail took 49 s or never ended. */
  static final Duration BOUND = Duration.ofSeconds(10);

  static final String HEADER = "apiVersion: runbook/v1\nkind: Runbook\nname: hostile\nhosts: all\n";
  static final String STEP = "phases:\n  preflight:\n    - name: hi\n      shell: echo hi\n";

  record Case(String input, String role, String expected) {
    @Override
    public String toString() {
      return input + " as " + role;
    }
  }

  @TempDir Path tmp;
  @RegisterExtension final SilentHost host = new SilentHost();

  static List<Case> cases() throws IOException {
    return Files.readAllLines(CORPUS.resolve("cases.txt")).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .map(l -> l.split(" \\| ", 3))
        .map(f -> new Case(f[0].strip(), f[1].strip(), f[2].strip()))
        .toList();
  }

  @Test
  void theCorpusIsLargeAndEveryFileInItIsACase() throws IOException {
    List<Case> cases = cases();
    assertThat(cases).hasSizeGreaterThanOrEqualTo(50);
    Set<String> listed =
        cases.stream().map(Case::input).collect(Collectors.toCollection(TreeSet::new));
    try (Stream<Path> files = Files.list(CORPUS)) {
      Set<String> present =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> !n.equals("cases.txt") && !n.equals("runbook.yaml"))
              .collect(Collectors.toCollection(TreeSet::new));
      assertThat(listed.stream().filter(n -> !n.startsWith("@")).toList())
          .containsExactlyInAnyOrderElementsOf(present);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void refusedAtOnceWithOneMessageAndNoHostContacted(Case c) throws Exception {
    Path input = input(c.input());
    Path inventory = host.inventory(tmp);
    Path state = tmp.resolve("state");
    String[] args =
        c.role().equals("runbook")
            ? new String[] {
              "apply",
              input.toString(),
              "-i",
              inventory.toString(),
              "--yes",
              "--state-dir",
              state.toString()
            }
            : new String[] {
              "apply",
              CORPUS.resolve("runbook.yaml").toString(),
              "-i",
              input.toString(),
              "--yes",
              "--state-dir",
              state.toString()
            };

    Run run =
        assertTimeoutPreemptively(BOUND, () -> Cli.run(args), c + " took longer than " + BOUND);

    String expected =
        c.expected()
            .replace("{file}", input.toString())
            .replace(
                "{size}", Files.isRegularFile(input) ? String.valueOf(Files.size(input)) : "?");
    assertThat(run.err()).as("stderr").contains(expected);
    assertThat(run.err())
        .as("stderr")
        .doesNotContain("\tat ")
        .doesNotContain("Exception")
        .doesNotContain("Error:");
    assertThat(run.code()).as("exit code; stderr: " + run.err()).isEqualTo(4);
    Thread.sleep(20);
    assertThat(host.connections()).as("connections to the host").isZero();
    assertThat(state).doesNotExist();
  }

  /** A file of the corpus, or one made here: what cannot live in git, or should not (megabytes). */
  private Path input(String name) throws Exception {
    switch (name) {
      case "@fifo" -> {
        Path fifo = tmp.resolve("fifo.yaml");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertThat(p.waitFor()).isZero();
        return fifo;
      }
      case "@dev-zero" -> {
        return Path.of("/dev/zero");
      }
      case "@directory" -> {
        return Files.createDirectories(tmp.resolve("a-directory.yaml"));
      }
      case "@missing" -> {
        return tmp.resolve("missing.yaml");
      }
      case "@10mb-one-line" -> {
        return write(
            "big.yaml", HEADER + "vars:\n  a: \"" + "x".repeat(10 * 1024 * 1024) + "\"\n" + STEP);
      }
      case "@3mb-one-line" -> {
        // Under the size limit: read whole, in linear time (it took 5.4 s before, and grew with the
        // square).
        return write(
            "three.yaml",
            HEADER + "vars:\n  a: \"" + "x".repeat(3 * 1024 * 1024) + "\"\nnot_a_key: 1\n" + STEP);
      }
      default -> {
        assertThat(name).doesNotStartWith("@");
        return CORPUS.resolve(name);
      }
    }
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(tmp.resolve(name), text, StandardCharsets.UTF_8);
  }
}
