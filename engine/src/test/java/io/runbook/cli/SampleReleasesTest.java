package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SQL files the {@code migrate} step applies (samples/releases/V/migrations) are the migrations
 * sampled.py embeds, by name and text: its start-up check looks the names up in the {@code
 * migrations} table, so a file named differently would make the server refuse to start after a
 * successful migrate.
 */
class SampleReleasesTest {
  static final Path RELEASES =
      Path.of("..").toAbsolutePath().normalize().resolve("samples/releases");

  @ParameterizedTest
  @ValueSource(strings = {"1.2.3", "1.3.0", "2.0.0"})
  void theMigrationFilesAreTheMigrationsSampledEmbeds(String release) throws Exception {
    assertFilesAreEmbedded(release, "MIGRATIONS", "migrations");
  }

  /**
   * The same for PostgreSQL (releases/V/migrations-postgres), with the same names as for SQLite.
   */
  @ParameterizedTest
  @ValueSource(strings = {"1.2.3", "1.3.0", "2.0.0"})
  void thePostgresMigrationFilesAreThePostgresMigrationsSampledEmbeds(String release)
      throws Exception {
    List<String> pg = assertFilesAreEmbedded(release, "MIGRATIONS_POSTGRES", "migrations-postgres");
    try (Stream<Path> s = Files.list(RELEASES.resolve(release).resolve("migrations"))) {
      assertThat(pg.stream().map(m -> m.substring(0, m.indexOf('\n'))))
          .containsExactlyElementsOf(s.map(f -> f.getFileName().toString()).sorted().toList());
    }
  }

  private static List<String> assertFilesAreEmbedded(String release, String variable, String folder)
      throws Exception {
    Path dir = RELEASES.resolve(release);
    // Read MIGRATIONS with python3 itself, as the server sees it.
    Process p =
        new ProcessBuilder(
                "python3",
                "-c",
                "import json, sys, textwrap; sys.dont_write_bytecode = True; sys.path.insert(0, sys.argv[1]);"
                    + " import sampled; print(json.dumps([[n, textwrap.dedent(s).strip()] for n, s in sampled."
                    + variable
                    + "]))",
                dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    List<String> embedded = new ArrayList<>();
    for (JsonNode m : new ObjectMapper().readTree(out))
      embedded.add(m.get(0).asText() + "\n" + m.get(1).asText());

    List<String> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir.resolve(folder))) {
      for (Path f : s.sorted().toList())
        files.add(f.getFileName() + "\n" + Files.readString(f).strip());
    }

    assertThat(files).isNotEmpty().containsExactlyElementsOf(embedded);
    return files;
  }
}
