package io.runbook.secret;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.SshHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets from every source (inventory host and group vars, {@code -e}, a variable the runbook
 * marks secret, one the rehearsal redacts) through every way out of a run over real SSH: plan,
 * apply with a failure and its rollback, apply --json, show (text, --steps, --json), history,
 * report and rollback of a past run. No output stream and no file under the state directory holds
 * any of them; every file there is 0600 and every directory 0700; and curl on the host never had
 * the bearer token in its argv.
 */
class SecretsIT {
  static final String INVENTORY_PASSWORD = "Inv-pw-7Hq2xK";
  static final String GROUP_TOKEN = "Grp-tok-Zr81mW";
  static final String EXTRA_SECRET = "Ext-sec-Q4vN0p";
  static final String MARKED = "Mark-lic-55Tb3e";
  static final String REDACTED_DSN = "dsn://Rd-dsn-Lk90aa@db";
  static final List<String> SECRETS =
      List.of(INVENTORY_PASSWORD, GROUP_TOKEN, EXTRA_SECRET, MARKED, REDACTED_DSN);

  @TempDir Path tmp;
  final List<String> streams = new ArrayList<>();

  Run runbook(String... args) {
    Run r = Cli.run(args);
    streams.add("runbook " + args[0] + "\n--- stdout\n" + r.out() + "\n--- stderr\n" + r.err());
    return r;
  }

  @Test
  void noSecretLeavesARunInClearAndEveryFileIsTheOwnersOnly() throws Exception {
    try (SshHost host = SshHost.start("secrets")) {
      // a curl that logs its argv, as ps would show it, before running the real one
      host.exec(
          "sh",
          "-c",
          "printf '#!/bin/sh\\nprintf \"%%s\\\\n\" \"$*\" >> /tmp/curl-argv\\nexec /usr/bin/curl \"$@\"\\n'"
              + " > /usr/local/bin/curl && chmod 755 /usr/local/bin/curl && touch /tmp/curl-argv && chmod 666 /tmp/curl-argv");
      host.exec(
          "sh",
          "-c",
          "cd /tmp && nohup python3 -m http.server 8099 --bind 127.0.0.1 >/dev/null 2>&1 &");
      Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), host.knownHostsLine() + "\n");
      Path inv =
          Files.writeString(
              tmp.resolve("inv.yaml"),
              """
          all:
            children:
              app:
                hosts:
                  web1: {ansible_host: %s, ansible_port: %d, ansible_user: %s, ansible_ssh_private_key_file: %s,
                         db_password: "%s", db_dsn: "%s"}
                vars:
                  api_token: "%s"
          """
                  .formatted(
                      host.host(),
                      host.port(),
                      host.user(),
                      host.privateKey(),
                      INVENTORY_PASSWORD,
                      REDACTED_DSN,
                      GROUP_TOKEN));
      Path rb =
          Files.writeString(
              tmp.resolve("rb.yaml"),
              """
          apiVersion: runbook/v1
          kind: Runbook
          name: secrets everywhere
          hosts: app
          secrets: [license_code]
          vars:
            license_code: "%s"
          rehearsal:
            redact: [db_dsn]
          phases:
            preflight:
              - name: Service answers for [=license_code]
                http:
                  url: "http://127.0.0.1:8099/?token=[=api_token]"
                  method: GET
                  headers: {Authorization: "Bearer [=api_token]"}
                  body: "password=[=db_password]"
            backup:
              - name: Write the secrets to a file
                shell: |
                  umask 077
                  printf '%%s %%s %%s %%s %%s\\n' '[=db_password]' '[=api_token]' '[=deploy_secret]' '[=license_code]' '[=db_dsn]' > /tmp/secrets.txt
                  cat /tmp/secrets.txt
                register: written
                rollback:
                  - name: Undo with [=deploy_secret]
                    shell: echo '[=deploy_secret]' > /tmp/undo-secret && echo undone '[=deploy_secret]' && cat /tmp/secrets.txt
            deploy:
              - name: Deploy, failing when asked ([=license_code])
                shell: test '[=should_fail]' != yes || { echo "boom [=db_password] [=api_token] [=deploy_secret]" >&2; exit 3; }
          """
                  .formatted(MARKED));
      Path state = tmp.resolve("state");
      // an older version left its run directory open to everyone: runbook's own directories are
      // tightened
      Files.createDirectories(
          state.resolve("runs"),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      List<String> common = List.of("-i", inv.toString(), "--known-hosts", knownHosts.toString());

      Run plan =
          runbook(
              args(
                  List.of("plan", rb.toString()),
                  List.of("-i", inv.toString()),
                  List.of(
                      "-e",
                      "deploy_secret=" + EXTRA_SECRET,
                      "-e",
                      "should_fail=yes",
                      "--state-dir",
                      state.toString())));
      assertThat(plan.code()).as(plan.err()).isEqualTo(0);
      assertThat(plan.out())
          .contains("headers={Authorization=***}")
          .contains("Service answers for ***");

      Run failed =
          runbook(
              args(
                  List.of("apply", rb.toString()),
                  common,
                  List.of(
                      "-e",
                      "deploy_secret=" + EXTRA_SECRET,
                      "-e",
                      "should_fail=yes",
                      "--yes",
                      "--state-dir",
                      state.toString())));
      assertThat(failed.code()).as(failed.out() + failed.err()).isEqualTo(2);
      assertThat(failed.out()).contains("ROLLBACK").contains("boom *** *** ***");
      assertThat(host.readFile("/tmp/undo-secret").strip()).isEqualTo(EXTRA_SECRET);
      String failedId = runId(failed.out());

      Run passed =
          runbook(
              args(
                  List.of("apply", rb.toString()),
                  common,
                  List.of(
                      "-e",
                      "deploy_secret=" + EXTRA_SECRET,
                      "-e",
                      "should_fail=no",
                      "--yes",
                      "--json",
                      "--state-dir",
                      state.toString())));
      assertThat(passed.code()).as(passed.out() + passed.err()).isEqualTo(0);
      assertThat(passed.out())
          .contains("\"deploy_secret\":\"***\"")
          .contains("*** *** *** *** ***");
      String passedId = runId(passed.out());

      // undoing the passed run plans it again with the -e value the journal shows masked
      host.exec("rm", "-f", "/tmp/undo-secret");
      Run undo =
          runbook(
              args(
                  List.of("rollback", passedId),
                  List.of("--known-hosts", knownHosts.toString()),
                  List.of("--yes", "--state-dir", state.toString())));
      assertThat(undo.code()).as("an undone host exits 2: " + undo.out() + undo.err()).isEqualTo(2);
      assertThat(undo.out()).contains("Undo with ***");
      assertThat(host.readFile("/tmp/undo-secret").strip()).isEqualTo(EXTRA_SECRET);

      for (String id : List.of(failedId, passedId)) {
        assertThat(runbook("show", id, "--state-dir", state.toString()).code()).isZero();
        assertThat(runbook("show", id, "--steps", "--state-dir", state.toString()).code()).isZero();
        assertThat(runbook("show", id, "--json", "--state-dir", state.toString()).code()).isZero();
        Run report = runbook("report", id, "--state-dir", state.toString());
        assertThat(report.code()).as(report.err()).isZero();
      }
      Path outside = tmp.resolve("reports").resolve("failed.html");
      assertThat(
              runbook("report", failedId, "-o", outside.toString(), "--state-dir", state.toString())
                  .code())
          .isZero();
      assertThat(runbook("history", "--state-dir", state.toString()).code()).isZero();

      // every stream and every file, the journal's private neighbour secrets.json aside (it exists
      // to keep them)
      Map<String, String> texts = new LinkedHashMap<>();
      for (int i = 0; i < streams.size(); i++)
        texts.put(
            "stream " + i + ": " + streams.get(i).lines().findFirst().orElse(""), streams.get(i));
      List<Path> files;
      try (Stream<Path> s = Files.walk(state)) {
        files = s.toList();
      }
      assertThat(files.stream().filter(p -> p.getFileName().toString().equals("report.html")))
          .hasSize(2);
      assertThat(files.stream().filter(p -> p.getFileName().toString().equals("journal.jsonl")))
          .hasSize(2);
      for (Path p : files) {
        if (p.equals(state))
          continue; // made by the user (here, the test as an older version): left as it is
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        assertThat(mode)
            .as(p.toString())
            .isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
        if (Files.isRegularFile(p) && !p.getFileName().toString().equals(SecretsFile.FILE))
          texts.put(p.toString(), Files.readString(p));
      }
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outside)))
          .isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outside.getParent())))
          .as("made by report")
          .isEqualTo("rwx------");
      texts.put(outside.toString(), Files.readString(outside));
      Path secretsFile = state.resolve("runs").resolve(passedId).resolve(SecretsFile.FILE);
      assertThat(Files.readString(secretsFile))
          .contains(EXTRA_SECRET)
          .doesNotContain(INVENTORY_PASSWORD);

      System.out.println(String.join("\n", streams));
      List<String> leaks = new ArrayList<>();
      texts.forEach(
          (where, text) -> {
            for (String secret : SECRETS) {
              if (text.contains(secret)) leaks.add(secret + " in " + where);
            }
          });
      assertThat(leaks).as("plaintext secrets").isEmpty();
      assertThat(Files.readString(state.resolve("runs").resolve(passedId).resolve("journal.jsonl")))
          .contains("undone ***")
          .contains("\"deploy_secret\":\"***\"");

      // ps on the host: curl ran, and its argv never held the token, the password or the URL with
      // its query
      String argv = host.readFile("/tmp/curl-argv");
      assertThat(argv).contains("-K -");
      for (String secret : SECRETS) assertThat(argv).doesNotContain(secret);
    }
  }

  private static String[] args(List<String> a, List<String> b, List<String> c) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    all.addAll(c);
    return all.toArray(String[]::new);
  }

  private static String runId(String out) {
    Matcher m =
        Pattern.compile("(?:run |\"runId\":\")([0-9]{8}-[0-9]{6}-[0-9a-f]{4})").matcher(out);
    assertThat(m.find()).as("a run id in:\n" + out).isTrue();
    return m.group(1);
  }
}
