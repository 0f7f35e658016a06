package io.runbook.rehearsal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.StepResult;
import io.runbook.step.BackupStep;
import io.runbook.step.RestoreStep;
import io.runbook.step.StepContext;
import io.runbook.template.Templates;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, observation 6: the copy's config.json and its backups held production's session_secret.
 * The scrub replaces production's values in the seeded text files and inside the backup archives (a
 * real {@code backup} step's archive here, with the real python3 and tar), and the archive still
 * restores: its SHA256SUMS lines follow, so the restore's checksum check passes.
 */
class ScrubberTest {
  @TempDir Path tmp;

  @Test
  void secretValuesGoFromFilesAndFromInsideBackupsWhichStillRestore() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app"));
    Path config = Files.createDirectories(app.resolve("config")).resolve("config.json");
    String prod = "prod-session-secret-0123456789";
    Files.writeString(
        config, "{\"auth\": {\"session_secret\": \"" + prod + "\"}, \"port\": 8080}\n");
    Path db = Files.createDirectories(app.resolve("data")).resolve("sample.db");
    Files.write(db, ("SQLite format 3\0" + prod).getBytes(UTF_8));
    Transport local = new LocalTransport("test");
    Ctx ctx = new Ctx(local);
    StepResult backup =
        new BackupStep()
            .execute(
                new BackupStep.Args(
                    List.of(config.toString(), db.toString()),
                    app.resolve("backups").toString(),
                    "sample",
                    null),
                ctx);
    assertThat(backup.failed()).as(backup.message()).isFalse();

    Secrets.Redacted redacted =
        Secrets.redact(Map.of("session_secret", prod, "port", 8080, "pin", "1234"), List.of("pin"));
    Map<String, String> pairs =
        Scrubber.pairs(
            Map.of("session_secret", prod, "port", 8080, "pin", "1234"),
            redacted,
            redacted.names());
    assertThat(pairs).as("values too short to search for are left out").containsOnlyKeys(prod);
    String generated = pairs.get(prod);

    Scrubber.Result r =
        Scrubber.scrub(
            local,
            List.of(
                app.resolve("config").toString(), app.resolve("backups").toString(), db.toString()),
            pairs);
    assertThat(r.files())
        .anyMatch(f -> f.endsWith("config/config.json"))
        .anyMatch(f -> f.endsWith("sample.tar.gz"));
    assertThat(r.members())
        .singleElement()
        .satisfies(m -> assertThat(m).endsWith(config.toString().substring(1)));
    assertThat(Files.readString(config)).doesNotContain(prod).contains(generated);
    // every text file and every archive member, opened
    try (Stream<Path> all = Files.walk(app.resolve("backups"))) {
      for (Path f : all.filter(Files::isRegularFile).toList()) {
        String text =
            f.toString().endsWith(".tar.gz")
                ? local
                    .exec(
                        ExecRequest.builder("tar -xzOf " + f + " " + config.toString().substring(1))
                            .build())
                    .stdoutText()
                : Files.readString(f);
        assertThat(text).as(f.toString()).doesNotContain(prod);
      }
    }
    assertThat(Files.readAllBytes(db))
        .as("a binary file keeps its bytes")
        .isEqualTo(("SQLite format 3\0" + prod).getBytes(UTF_8));

    // the rewritten backup restores as a rollback restores it: checksums first
    Files.writeString(config, "changed since\n");
    StepResult restore =
        new RestoreStep()
            .execute(
                new RestoreStep.Args(
                    r.files().stream().filter(f -> f.endsWith(".tar.gz")).findFirst().orElseThrow(),
                    null,
                    null,
                    false),
                ctx);
    assertThat(restore.failed()).as(restore.message()).isFalse();
    assertThat(Files.readString(config)).contains(generated).doesNotContain(prod);
  }

  private record Ctx(Transport transport) implements StepContext {
    @Override
    public String hostName() {
      return "test";
    }

    @Override
    public Duration timeout() {
      return Duration.ofSeconds(60);
    }

    @Override
    public Become become() {
      return Become.NONE;
    }

    @Override
    public Path baseDir() {
      return Path.of(".");
    }

    @Override
    public Map<String, Object> vars() {
      return Map.of("run", Map.of("id", "20261201-100000-0001"));
    }

    @Override
    public String render(String text, String name) {
      return Templates.render(text, name, vars());
    }

    @Override
    public boolean evaluate(String e) {
      return Templates.evaluate(e, e, vars());
    }
  }
}
