package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code validate} finds, without an inventory, what {@code plan} would (template and condition
 * syntax, controller files, registered values used before their step); {@code plan} finds
 * everything but the hosts (template files rendered per host), each problem once, naming every host
 * it applies to.
 */
class ValidateIsPlanTest {
  static final String HEADER =
      "apiVersion: runbook/v1\nkind: Runbook\nname: checks\nhosts: all\nphases:\n  preflight:\n";

  @TempDir Path tmp;
  Path inventory;

  @BeforeEach
  void setUp() throws Exception {
    StringBuilder hosts = new StringBuilder("all:\n  hosts:\n");
    for (int i = 1; i <= 8; i++)
      hosts.append("    h").append(i).append(": {ansible_host: 127.0.0.1, ansible_port: 1}\n");
    inventory = Files.writeString(tmp.resolve("inventory.yaml"), hosts);
    Files.createDirectories(tmp.resolve("files"));
  }

  Path runbook(String steps) throws Exception {
    return Files.writeString(tmp.resolve("rb.yaml"), HEADER + steps.indent(4));
  }

  Run validate(Path rb) {
    return Cli.run("validate", rb.toString());
  }

  Run plan(Path rb) {
    return Cli.run(
        "plan",
        rb.toString(),
        "-i",
        inventory.toString(),
        "--state-dir",
        tmp.resolve("state").toString());
  }

  @Test
  void aConditionThatIsNotFreeMarkerIsFoundByValidate() throws Exception {
    Path rb =
        runbook(
            """
        - name: Run it
          shell: ./run
          failed_when: "'ERROR' in result.stderr"
        """);
    Run v = validate(rb);
    assertThat(v.err())
        .contains(
            rb + ":9:20: step 'Run it': failed_when: template syntax error: Encountered \"in\"")
        .contains("result.stderr?contains(\"ERROR\")");
    assertThat(v.code()).isEqualTo(4);
    assertThat(plan(rb).code()).isEqualTo(4);
  }

  @Test
  void templateSyntaxInArgumentsNamesAndAssertIsFoundByValidateInFull() throws Exception {
    Path rb =
        runbook(
            """
        - name: "Deploy [=version"
          shell: "echo [#if x]"
        - name: Check
          assert: {that: ["1 =="]}
        """);
    Run v = validate(rb);
    assertThat(v.err())
        .contains(
            rb
                + ":7:13: step 'Deploy [=version': name: template syntax error: Unexpected end of file")
        // the whole message, not its first line cut at "after the /"
        .contains("(Note that FreeMarker end-tags must have # or @ after the / character.)")
        .contains(
            rb
                + ":8:14: step 'Deploy [=version' (shell): template syntax error: Unexpected end of file reached. You have an unclosed #if.")
        .contains(rb + ":10:23: step 'Check' (assert): that: template syntax error:")
        .contains("3 problem(s)");
    assertThat(v.code()).isEqualTo(4);
  }

  @Test
  void controllerFilesAreCheckedByValidate() throws Exception {
    Files.writeString(tmp.resolve("files/bad.conf"), "port=[=port\n");
    Files.writeString(tmp.resolve("files/own-tx.sql"), "BEGIN; CREATE TABLE a (x); COMMIT;\n");
    Files.writeString(tmp.resolve("files/broken.json"), "{\"type\": ");
    Files.writeString(tmp.resolve("files/not-a-schema.json"), "{\"type\": 5}");
    Path rb =
        runbook(
            """
        - name: Copy
          copy: {src: files/missing.conf, dest: /etc/app.conf}
        - name: Template
          template: {src: files/bad.conf, dest: /etc/app.conf}
        - name: Migrate
          migrate: {engine: sqlite, db: /srv/app.db, dir: no-such-dir}
        - name: Migrate files
          migrate: {engine: sqlite, db: /srv/app.db, files: [files/own-tx.sql]}
        - name: Schema
          json_schema: {path: /etc/app.json, schema: files/none.json}
        - name: Schema broken
          json_schema: {path: /etc/app.json, schema: files/broken.json}
        - name: Compare
          config_diff: {path: /etc/app.json, against: files/none.json}
        - name: Schema invalid
          json_schema: {path: /etc/app.json, schema: files/not-a-schema.json}
        """);
    Run v = validate(rb);
    assertThat(v.err())
        .contains(
            rb
                + ":8:13: step 'Copy' (copy): src file not found on the controller: "
                + tmp.resolve("files/missing.conf"))
        .contains(
            rb + ":10:17: step 'Template' (template): src files/bad.conf: template syntax error:")
        .contains(
            rb
                + ":12:16: step 'Migrate' (migrate): migrations dir not found on the controller: "
                + tmp.resolve("no-such-dir"))
        .contains(
            rb + ":14:16: step 'Migrate files' (migrate): own-tx.sql has its own BEGIN/COMMIT")
        .contains(
            rb + ":16:20: step 'Schema' (json_schema): schema file not found on the controller")
        .contains(rb + ":18:20: step 'Schema broken' (json_schema): files/broken.json:")
        .contains(
            rb + ":20:20: step 'Compare' (config_diff): against file not found on the controller")
        .contains(
            rb
                + ":22:20: step 'Schema invalid' (json_schema): files/not-a-schema.json is not a valid JSON Schema"
                + " (draft 2020-12): /type: does not have a value in the enumeration")
        .contains("8 problem(s)");
    assertThat(v.code()).isEqualTo(4);
    assertThat(plan(rb).err()).contains("8 problem(s)");
  }

  @Test
  void planRendersTemplateFilesAndReportsEachProblemOnceForAllItsHosts() throws Exception {
    Files.writeString(tmp.resolve("files/app.conf"), "port=[=prot]\n");
    Path rb =
        runbook(
            """
        - name: Render
          template: {src: files/app.conf, dest: /etc/app.conf}
        - name: Say
          shell: "echo [=undefined_thing]"
        """);
    assertThat(validate(rb).code()).isZero();

    Run p = plan(rb);
    String all = "hosts 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'";
    assertThat(p.err())
        .contains(
            rb
                + ":8:17: step 'Render' (template) on "
                + all
                + ": src files/app.conf: undefined variable 'prot'")
        .contains(
            rb + ":10:14: step 'Say' (shell) on " + all + ": undefined variable 'undefined_thing'")
        .contains("2 problem(s); nothing was run.");
    assertThat(p.err().lines().count()).isEqualTo(3);
    assertThat(p.code()).isEqualTo(4);
  }

  @Test
  void aRegisteredValueUsedBeforeItsStepIsAnInputError() throws Exception {
    Path rb =
        runbook(
            """
        - name: Compare
          shell: "echo [=installed.stdout]"
          when: installed.rc == 0
        - name: Read the version
          shell: cat /srv/app/VERSION
          register: installed
          until: installed.rc == 0
          rollback:
            - name: Put it back
              shell: "echo [=installed.stdout]"
        - name: Use it
          shell: "echo [=installed.stdout]"
        """);
    for (Run r : List.of(validate(rb), plan(rb))) {
      assertThat(r.err())
          .contains(
              rb
                  + ":8:14: step 'Compare' (shell): 'installed' is used before step 'Read the version'"
                  + " (line 10) registers it: move that step earlier, or this one later")
          .contains(
              rb
                  + ":9:13: step 'Compare' (shell): when: 'installed' is used before step 'Read the version'")
          .contains("2 problem(s)");
      assertThat(r.code()).isEqualTo(4);
    }
  }
}
