package io.runbook.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.transport.ExecRequest;
import io.runbook.transport.LocalTransport;
import io.runbook.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, observation 6, the part variables cannot reach: a secret that production generated into
 * its config (no inventory variable holds it) is named by file and key in {@code rehearsal.redact},
 * read from the seeded copy, and replaced everywhere in it — the config, another file, and a backup
 * archive.
 */
class KeyedSecretsTest {
  @TempDir Path tmp;

  @Test
  void secretsNamedByFileAndKeyLeaveEveryFileOfTheCopy() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app"));
    Path config = Files.createDirectories(app.resolve("config")).resolve("config.json");
    String jwt = "generated-on-prod-7f3a9c1e55d2";
    String dbPassword = "db-pass-Zq81xLw0";
    Files.writeString(
        config, "{\"auth\": {\"jwt_key\": \"" + jwt + "\", \"pin\": \"1234\"}, \"port\": 8080}\n");
    Path yaml = app.resolve("config/db.yaml");
    Files.writeString(yaml, "servers:\n  - host: db1\n    password: " + dbPassword + "\n");
    Path notes = app.resolve("config/notes.txt");
    Files.writeString(notes, "copied the key " + jwt + " from the vault\n");
    Path backups = Files.createDirectories(app.resolve("backups/r1"));
    Transport local = new LocalTransport("copy");
    assertThat(
            local
                .exec(
                    ExecRequest.builder(
                            "tar -czf "
                                + backups.resolve("sample.tar.gz")
                                + " -C / "
                                + config.toString().substring(1))
                        .build())
                .exitCode())
        .isZero();

    KeyedSecrets.Found found =
        KeyedSecrets.read(
            local,
            List.of(
                new RehearsalSpec.RedactKey(
                    config.toString(), List.of("auth.jwt_key", "auth.pin", "auth.missing")),
                new RehearsalSpec.RedactKey(yaml.toString(), List.of("servers.0.password")),
                new RehearsalSpec.RedactKey(
                    app.resolve("config/absent.json").toString(), List.of("a"))));

    assertThat(found.pairs()).containsOnlyKeys(jwt, dbPassword);
    assertThat(found.replaced())
        .containsExactly(config + ":auth.jwt_key", yaml + ":servers.0.password");
    assertThat(found.warnings())
        .hasSize(3)
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains("auth.pin is shorter than 6 characters")
                    .contains("NOT replaced"))
        .anySatisfy(w -> assertThat(w).contains("has no value at auth.missing"))
        .anySatisfy(w -> assertThat(w).contains("absent.json is not on the copy"));
    assertThat(String.join("\n", found.warnings()))
        .doesNotContain(jwt)
        .doesNotContain(dbPassword)
        .doesNotContain("1234");

    Scrubber.scrub(
        local,
        List.of(app.resolve("config").toString(), app.resolve("backups").toString()),
        found.pairs());

    try (Stream<Path> all = Files.walk(app)) {
      for (Path f : all.filter(Files::isRegularFile).toList()) {
        String text =
            f.toString().endsWith(".tar.gz")
                ? local.exec(ExecRequest.builder("tar -xzOf " + f).build()).stdoutText()
                : Files.readString(f);
        assertThat(text).as(f.toString()).doesNotContain(jwt).doesNotContain(dbPassword);
      }
    }
    assertThat(Files.readString(config)).contains(found.pairs().get(jwt));
    assertThat(Files.readString(notes))
        .as("the same value elsewhere gets the same replacement")
        .contains(found.pairs().get(jwt));
  }

  @Test
  void dottedPathsWalkMapsAndLists() throws Exception {
    Object doc = KeyedSecrets.parse("c.yaml", "a:\n  b: [x, {c: deep}]\n");
    assertThat(KeyedSecrets.at(doc, "a.b.1.c")).isEqualTo("deep");
    assertThat(KeyedSecrets.at(doc, "a.b.2")).isNull();
    assertThat(KeyedSecrets.at(doc, "a.x.y")).isNull();
  }
}
