package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.inventory.ExtraVars;
import io.runbook.inventory.Inventory;
import io.runbook.inventory.InventoryLoader;
import io.runbook.inventory.Vault;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ansible Vault data made by the real ansible-vault (Debian's ansible-core, installed by
 * scripts/test-env.sh): !vault values and encrypted files, formats 1.1 and 1.2 (with a vault id),
 * read with --vault-password-file, --vault-id and ANSIBLE_VAULT_PASSWORD_FILE, compared with
 * ansible-inventory.
 */
class VaultIT {
  private static final String DB_PASSWORD = "S3cr3t-db!";
  private static final String API_TOKEN = "tok-7f3a9c";
  private static final String FILE_SECRET = "file-level-secret";

  @TempDir Path dir;
  private Path defaultPass;
  private Path prodPass;
  private Path inventory;

  @BeforeEach
  void encryptWithAnsibleVault() throws Exception {
    defaultPass = write("pass-default", "correct horse battery staple\n");
    prodPass = write("pass-prod", "prod-only password");
    inventory = write("inv/hosts.yml", "web:\n  hosts:\n    web1:\n    web2:\n");
    // A !vault value of format 1.1 (no id) and one of format 1.2 (id 'prod'), as ansible-vault
    // writes them.
    String dbValue =
        ansible(
            "ansible-vault",
            "encrypt_string",
            "--vault-password-file",
            defaultPass.toString(),
            "--name",
            "db_password",
            DB_PASSWORD);
    String apiValue =
        ansible(
            "ansible-vault",
            "encrypt_string",
            "--vault-id",
            "prod@" + prodPass,
            "--name",
            "api_token",
            API_TOKEN);
    assertThat(dbValue).contains("$ANSIBLE_VAULT;1.1;AES256");
    assertThat(apiValue).contains("$ANSIBLE_VAULT;1.2;AES256;prod");
    write("inv/group_vars/all/inline.yml", "plain: visible\n" + dbValue + "\n" + apiValue + "\n");
    // A whole file encrypted (format 1.2, id prod).
    Path web = write("inv/group_vars/web.yml", "file_secret: " + FILE_SECRET + "\nport: 5432\n");
    ansible("ansible-vault", "encrypt", "--vault-id", "prod@" + prodPass, web.toString());
    assertThat(Files.readString(web)).startsWith("$ANSIBLE_VAULT;1.2;AES256;prod");
  }

  @Test
  void decryptsWhatAnsibleVaultEncryptedAsAnsibleInventoryDoes() throws Exception {
    Vault vault =
        Vault.fromOptions(List.of(), List.of(defaultPass.toString(), "prod@" + prodPass), Map.of());
    Inventory inv = load(vault);
    Map<String, Object> vars = inv.hosts().get("web1").vars();
    assertThat(vars)
        .containsEntry("db_password", DB_PASSWORD)
        .containsEntry("api_token", API_TOKEN)
        .containsEntry("file_secret", FILE_SECRET)
        .containsEntry("port", 5432L)
        .containsEntry("plain", "visible");
    assertThat(inv.secretValues())
        .contains(DB_PASSWORD, API_TOKEN, FILE_SECRET)
        .doesNotContain("visible");

    // ansible-inventory decrypts the encrypted file and shows !vault values as ciphertext.
    JsonNode theirs =
        new ObjectMapper()
            .readTree(
                ansible(
                    "ansible-inventory",
                    "-i",
                    inventory.toString(),
                    "--list",
                    "--vault-id",
                    defaultPass.toString(),
                    "--vault-id",
                    "prod@" + prodPass))
            .path("_meta")
            .path("hostvars")
            .path("web1");
    assertThat(theirs.path("file_secret").asText()).isEqualTo(FILE_SECRET);
    assertThat(theirs.path("port").asLong()).isEqualTo(5432L);
    assertThat(theirs.path("db_password").has("__ansible_vault")).isTrue();
    assertThat(theirs.path("plain").asText()).isEqualTo("visible");
  }

  @Test
  void passwordsFromEveryOption() throws Exception {
    // --vault-password-file twice (ids are tried label first, then all), and a password script.
    Path script = write("pass-script.sh", "#!/bin/sh\necho 'prod-only password'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    assertThat(
            load(Vault.fromOptions(
                    List.of(defaultPass.toString(), script.toString()), List.of(), Map.of()))
                .hosts()
                .get("web2")
                .vars())
        .containsEntry("api_token", API_TOKEN)
        .containsEntry("file_secret", FILE_SECRET);
    // ANSIBLE_VAULT_PASSWORD_FILE with one password: what it cannot decrypt is one clear error.
    Vault fromEnv =
        Vault.fromOptions(
            List.of(), List.of(), Map.of("ANSIBLE_VAULT_PASSWORD_FILE", defaultPass.toString()));
    assertThatThrownBy(() -> load(fromEnv))
        .isInstanceOf(RunbookException.class)
        .hasMessageContaining("does not decrypt it (vault id 'prod')");
  }

  @Test
  void aWrongPasswordIsOneClearInputErrorWithoutTheSecret() throws Exception {
    Path wrong = write("wrong", "not the password");
    Run run =
        Cli.run("inventory", "-i", inventory.toString(), "--vault-password-file", wrong.toString());
    int code = run.code();
    String stderr = run.err();
    assertThat(code).isEqualTo(ErrorCode.INVALID_INPUT.exitCode()).isEqualTo(4);
    assertThat(stderr.strip().lines().toList()).hasSize(1);
    assertThat(stderr)
        .contains("the vault password given does not decrypt it")
        .doesNotContain("Exception")
        .doesNotContain(DB_PASSWORD);
    // No password at all says which option to pass.
    Problems problems = new Problems();
    assertThatThrownBy(
            () ->
                InventoryLoader.load(
                    List.of(inventory), null, Vault.none(), Path::toString, problems))
        .hasMessageContaining("vaulted data needs a vault password: pass --vault-password-file");
  }

  @Test
  void theInventoryCommandMasksVaultedValues() throws Exception {
    Run run =
        Cli.run(
            "inventory",
            "-i",
            inventory.toString(),
            "--vault-id",
            defaultPass.toString(),
            "--vault-id",
            "prod@" + prodPass,
            "--json");
    int code = run.code();
    String printed = run.out();
    assertThat(code).isZero();
    assertThat(printed)
        .contains("visible", "********")
        .doesNotContain(DB_PASSWORD)
        .doesNotContain(API_TOKEN)
        .doesNotContain(FILE_SECRET);
  }

  @Test
  void extraVarsFromAVaultedFile() throws Exception {
    Path vars = write("extra.yml", "release: \"2.1\"\nrelease_token: " + API_TOKEN + "\n");
    ansible(
        "ansible-vault",
        "encrypt",
        "--vault-password-file",
        defaultPass.toString(),
        vars.toString());
    Set<String> secrets = new LinkedHashSet<>();
    Problems problems = new Problems();
    Map<String, Object> parsed =
        ExtraVars.parse(
            List.of("@" + vars, "{\"n\": [1, 2]}", "a=1 b=yes"),
            Vault.fromOptions(List.of(defaultPass.toString()), List.of(), Map.of()),
            secrets,
            dir,
            problems);
    assertThat(problems.isEmpty()).isTrue();
    assertThat(parsed)
        .containsEntry("release", "2.1")
        .containsEntry("release_token", API_TOKEN)
        .containsEntry("n", List.of(1L, 2L))
        .containsEntry("a", 1L)
        .containsEntry("b", "yes");
    assertThat(secrets).contains(API_TOKEN);
  }

  private Inventory load(Vault vault) {
    Problems problems = new Problems();
    Inventory inv =
        InventoryLoader.load(List.of(inventory), null, vault, Path::toString, problems)
            .orElse(null);
    assertThat(problems.sorted()).isEmpty();
    return inv;
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  /** Runs an Ansible tool; it must be installed (never skipped) and succeed. */
  private String ansible(String... cmd) throws Exception {
    Path cfg = write("ansible.cfg", "[defaults]\n");
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile());
    pb.environment().put("ANSIBLE_CONFIG", cfg.toString());
    pb.environment().put("ANSIBLE_HOME", dir.resolve(".ansible").toString());
    pb.environment().remove("ANSIBLE_VAULT_PASSWORD_FILE");
    Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(String.join(" ", cmd) + " (is Debian's ansible-core installed? scripts/test-env.sh)")
        .isZero();
    return out;
  }

  @Test
  void aVaultedValueIsMaskedInEveryOutputOfARunWhateverItsVariableIsCalled() throws Exception {
    String plain = "hello-vault-91c4";
    String value =
        ansible(
            "ansible-vault",
            "encrypt_string",
            "--vault-password-file",
            defaultPass.toString(),
            "--name",
            "greeting",
            plain);
    Path inv =
        write(
            "run/hosts.yml",
            "all:\n  hosts:\n    one: {ansible_connection: local, runbook_lock_path: "
                + dir.resolve("lock")
                + "}\n");
    write("run/group_vars/all.yml", value + "\n");
    Path rb =
        write(
            "run/rb.yaml",
            """
        apiVersion: runbook/v1
        kind: Runbook
        name: greet
        hosts: all
        phases:
          deploy:
            - name: Say [=greeting]
              shell: echo "[=greeting]"
            - name: Fail saying [=greeting]
              shell: echo "[=greeting]" >&2; false
        """);
    Path state = dir.resolve("state");
    Run apply =
        Cli.runMerged(
            "apply",
            rb.toString(),
            "-i",
            inv.toString(),
            "--vault-password-file",
            defaultPass.toString(),
            "--yes",
            "--state-dir",
            state.toString());
    Run plan =
        Cli.runMerged(
            "plan",
            rb.toString(),
            "-i",
            inv.toString(),
            "--vault-password-file",
            defaultPass.toString());

    assertThat(apply.code()).as(apply.out()).isEqualTo(2);
    assertThat(apply.out()).contains("Say ***").doesNotContain(plain);
    assertThat(plan.out()).contains("***").doesNotContain(plain);
    try (var files = Files.walk(state)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (f.getFileName().toString().equals("undo-state.jsonl"))
          continue; // owner-only undo bytes
        assertThat(Files.readString(f)).as(f.toString()).doesNotContain(plain);
      }
    }
  }
}
