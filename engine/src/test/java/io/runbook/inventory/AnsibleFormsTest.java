package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.yaml.Problem;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;

/**
 * The inventory forms Ansible reads besides YAML; each expectation was checked with
 * ansible-inventory 2.14.
 */
class AnsibleFormsTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  private Inventory load(Path... sources) {
    Problems problems = new Problems();
    Inventory inv =
        InventoryLoader.load(
                List.of(sources), null, Vault.none(), p -> dir.relativize(p).toString(), problems)
            .orElse(null);
    assertThat(problems.sorted().stream().map(Problem::toString).toList()).isEmpty();
    return inv;
  }

  @Test
  void iniValuesArePythonLiteralsOnHostLinesAndInVarsSections() throws IOException {
    Inventory inv =
        load(
            write(
                "hosts",
                """
        h1 a=1 b=yes c=True d="1" e='x y' f=[1,2] h=0755 i=1.5 j=None k=0x1f l=-3 m=1e3 n=foo:bar # comment
        [web]
        web[01:03:2]:2222 ansible_ssh_host=10.0.0.1
        [web:vars]
        a=1
        c="1"
        e = spaced value
        g=yes
        """));
    Map<String, Object> h1 = inv.hosts().get("h1").vars();
    assertThat(h1)
        .containsEntry("a", 1L)
        .containsEntry("b", "yes")
        .containsEntry("c", true)
        .containsEntry("d", 1L)
        .containsEntry("e", "x y")
        .containsEntry("f", List.of(1L, 2L))
        .containsEntry("h", "0755")
        .containsEntry("i", 1.5)
        .containsEntry("j", null)
        .containsEntry("k", 31L)
        .containsEntry("l", -3L)
        .containsEntry("m", 1000.0)
        .containsEntry("n", "foo:bar");
    assertThat(inv.hosts()).containsOnlyKeys("h1", "web01", "web03");
    Host web01 = inv.hosts().get("web01");
    assertThat(web01.vars())
        .containsEntry("a", 1L)
        .containsEntry("c", "1")
        .containsEntry("e", "spaced value")
        .containsEntry("g", "yes")
        .containsEntry("ansible_port", 2222L);
    assertThat(web01.address()).isEqualTo("10.0.0.1");
    assertThat(web01.port()).isEqualTo(2222);
    assertThat(inv.groups().get("ungrouped").hosts()).containsExactly("h1");
  }

  @Test
  void yamlIsReadAsYaml11() throws IOException {
    Inventory inv =
        load(
            write(
                "inv.yml",
                """
        all:
          hosts:
            h1:
              a: yes
              b: off
              c: True
              d: 0755
              e: 1_000
              f: 1e3
              g: 1:30
              h: "yes"
              i: ~
        """));
    assertThat(inv.hosts().get("h1").vars())
        .containsEntry("a", true)
        .containsEntry("b", false)
        .containsEntry("c", true)
        .containsEntry("d", 493L)
        .containsEntry("e", 1000L)
        .containsEntry("f", "1e3")
        .containsEntry("g", 90L)
        .containsEntry("h", "yes")
        .containsEntry("i", null);
  }

  @Test
  void groupAndHostVarsBesideTheInventoryAndTheRunbook() throws IOException {
    Path inv = write("inv/hosts.ini", "[web]\nweb1 x=host\n[web:vars]\ng=inventory\n");
    write("inv/group_vars/all.yml", "a: all\ng: all-file\n");
    write("inv/group_vars/web/one.yml", "w1: one\n");
    write("inv/group_vars/web/two.yaml", "w1: two\nw2: two\n");
    write("inv/group_vars/web/skip.txt", "w1: skipped\n");
    write("inv/host_vars/web1", "x: host_vars\n");
    write("book/group_vars/web.json", "{\"w2\": \"book\"}");
    Problems problems = new Problems();
    Inventory inventory =
        InventoryLoader.load(
                List.of(inv), dir.resolve("book"), Vault.none(), Path::toString, problems)
            .orElseThrow();
    // group_vars/all.yml beats the inventory file's group vars, as in Ansible.
    assertThat(inventory.hosts().get("web1").vars())
        .containsEntry("a", "all")
        .containsEntry("g", "all-file")
        .containsEntry("w1", "two")
        .containsEntry("w2", "book")
        .containsEntry("x", "host_vars");
  }

  @Test
  void anInventoryDirectoryReadsItsFilesInNameOrderSkippingIgnoredOnes() throws IOException {
    write("d/01-base.yml", "all:\n  children:\n    web:\n      hosts:\n        web1:\n");
    write("d/02-more", "[web]\nweb2\n");
    write("d/notes.ini", "[db]\ndb1\n");
    write("d/README.md", "# not an inventory\n");
    Path script =
        write(
            "d/03-dynamic.sh",
            "#!/bin/sh\necho '{\"db\": {\"hosts\": [\"db9\"], \"vars\": {\"v\": 1}},"
                + " \"_meta\": {\"hostvars\": {\"db9\": {\"ansible_host\": \"10.9.9.9\"}}}}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    Inventory inv = load(dir.resolve("d"));
    assertThat(inv.hosts()).containsOnlyKeys("web1", "web2", "db9");
    assertThat(inv.hosts().get("db9").vars())
        .containsEntry("v", 1)
        .containsEntry("ansible_host", "10.9.9.9");
  }

  @Test
  void aFailingScriptIsRefusedWithItsStderr() throws IOException {
    Path script = write("bad.sh", "#!/bin/sh\necho 'cannot reach the CMDB' >&2\nexit 3\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    Problems problems = new Problems();
    assertThat(InventoryLoader.load(List.of(script), null, Vault.none(), p -> "bad.sh", problems))
        .isEmpty();
    assertThat(problems.sorted().get(0).toString())
        .isEqualTo("bad.sh: inventory script bad.sh --list failed (exit 3): cannot reach the CMDB");
  }

  @Test
  void groupPriorityOrdersGroupsOfTheSameDepth() throws IOException {
    Inventory inv =
        load(
            write(
                "p.yml",
                """
        a:
          hosts: {h1: }
          vars: {x: a, ansible_group_priority: 10}
        b:
          hosts: {h1: }
          vars: {x: b}
        """));
    assertThat(inv.hosts().get("h1").vars()).containsEntry("x", "a");
  }

  @Test
  void whatTheWriterSchemaDumpsLoadsBackUnchanged() throws IOException {
    // The rehearsal writes production's variables into an inventory it reads back as Ansible YAML.
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("yes_string", "yes");
    vars.put("octal_string", "0755");
    vars.put("version", "2.1");
    vars.put("clock", "1:30");
    vars.put("flag", true);
    vars.put("port", 5432L);
    vars.put("ratio", 0.5);
    vars.put("nothing", null);
    String yaml =
        new Dump(DumpSettings.builder().setSchema(InventoryLoader.writerSchema()).build())
            .dumpToString(Map.of("all", Map.of("hosts", Map.of("h1", vars))));
    assertThat(load(write("dumped.yaml", yaml)).hosts().get("h1").vars()).isEqualTo(vars);
  }

  @Test
  void pythonLiterals() {
    assertThat(PythonLiteral.valueOf("{'k': (1, 2), \"s\": u'x' 'y'}"))
        .isEqualTo(Map.of("k", List.of(1L, 2L), "s", "xy"));
    assertThat(PythonLiteral.valueOf("-0x10")).isEqualTo(-16L);
    assertThat(PythonLiteral.valueOf("true")).isEqualTo("true");
    assertThat(PythonLiteral.valueOf("1_000.5")).isEqualTo(1000.5);
    assertThat(PythonLiteral.valueOf("[1,")).isEqualTo("[1,");
    assertThat(IniInventory.shlex("a=\"b c\" d='e \\\" f' g=h#comment"))
        .containsExactly("a=b c", "d=e \\\" f", "g=h");
  }
}
