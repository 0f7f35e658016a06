package io.runbook.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.runbook.yaml.Problem;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * runbook's inventory loader against Ansible itself (Debian's ansible-core, installed by
 * scripts/test-env.sh): every inventory of src/test/resources/ansible-corpus is read by both, and
 * compared host by host (groups and every variable, types included) with {@code ansible-inventory
 * --list}, and each case's patterns with {@code ansible PATTERN --list-hosts} (as sets: runbook
 * lists hosts in inventory order). A case is a directory whose {@code case} file lists its {@code
 * source:} lines (each an {@code -i}), an optional {@code playbook-dir:} and its {@code pattern:}
 * lines.
 */
class AnsibleDifferentialIT {
  private static final Path CORPUS = Path.of("src/test/resources/ansible-corpus");
  // ansible-inventory writes .inf as Infinity, which is not JSON.
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  @TempDir Path tmp;

  private record Case(
      String name, Path dir, List<String> sources, String playbookDir, List<String> patterns) {}

  @Test
  void readsEveryInventoryAsAnsibleDoes() throws Exception {
    assertThat(run(tmp, List.of("ansible-inventory", "--version")).exit)
        .as(
            "ansible-inventory must be installed (scripts/test-env.sh installs Debian's ansible-core)")
        .isZero();
    List<Case> cases = cases();
    assertThat(cases).hasSizeGreaterThanOrEqualTo(15);
    List<String> differences = new ArrayList<>();
    int hosts = 0;
    int variables = 0;
    int patterns = 0;
    for (Case c : cases) {
      List<String> iArgs = new ArrayList<>();
      for (String s : c.sources()) {
        iArgs.add("-i");
        iArgs.add(c.dir().resolve(s).toString());
      }
      List<String> cmd = new ArrayList<>(List.of("ansible-inventory", "--list"));
      cmd.addAll(iArgs);
      if (c.playbookDir() != null)
        cmd.addAll(List.of("--playbook-dir", c.dir().resolve(c.playbookDir()).toString()));
      Result ansible = run(c.dir(), cmd);
      assertThat(ansible.exit).as(c.name() + ": ansible-inventory failed: " + ansible.err).isZero();
      JsonNode list = JSON.readTree(ansible.out);

      Problems problems = new Problems();
      Inventory ours =
          InventoryLoader.load(
                  c.sources().stream().map(s -> c.dir().resolve(s)).toList(),
                  c.playbookDir() == null ? null : c.dir().resolve(c.playbookDir()),
                  Vault.none(),
                  p -> c.dir().relativize(p).toString(),
                  problems)
              .orElse(null);
      if (ours == null) {
        differences.add(
            c.name()
                + ": runbook refused it: "
                + problems.sorted().stream().map(Problem::toString).toList());
        continue;
      }
      Map<String, Set<String>> groupsOf = groupsOf(list);
      TreeSet<String> both = new TreeSet<>(groupsOf.keySet());
      both.addAll(ours.hosts().keySet());
      for (String h : both) {
        Host host = ours.hosts().get(h);
        if (host == null || !groupsOf.containsKey(h)) {
          differences.add(
              c.name() + ": host " + h + " only in " + (host == null ? "ansible" : "runbook"));
          continue;
        }
        hosts++;
        Set<String> ourGroups = new TreeSet<>(host.groups());
        if (!ourGroups.equals(groupsOf.get(h))) {
          differences.add(
              c.name()
                  + ": "
                  + h
                  + " groups: ansible "
                  + groupsOf.get(h)
                  + ", runbook "
                  + ourGroups);
        }
        JsonNode theirs = list.path("_meta").path("hostvars").path(h);
        JsonNode mine = JSON.valueToTree(host.vars());
        TreeSet<String> names = new TreeSet<>();
        theirs.fieldNames().forEachRemaining(names::add);
        mine.fieldNames().forEachRemaining(names::add);
        for (String v : names) {
          variables++;
          JsonNode a = theirs.get(v);
          JsonNode b = mine.get(v);
          if (a == null || b == null || !a.equals(NUMBERS, b)) {
            differences.add(c.name() + ": " + h + "." + v + ": ansible " + a + ", runbook " + b);
          }
        }
      }
      for (String p : c.patterns()) {
        patterns++;
        List<String> pcmd = new ArrayList<>(List.of("ansible", p, "--list-hosts"));
        pcmd.addAll(iArgs);
        Result r = run(c.dir(), pcmd);
        Set<String> theirs = new TreeSet<>();
        boolean inList = false;
        for (String line : r.out.lines().toList()) {
          if (line.strip().matches("hosts \\(\\d+\\):")) inList = true;
          else if (inList && !line.isBlank()) theirs.add(line.strip());
        }
        Set<String> mine = new TreeSet<>();
        ours.select(p).forEach(x -> mine.add(x.name()));
        if (!theirs.equals(mine))
          differences.add(
              c.name() + ": pattern '" + p + "': ansible " + theirs + ", runbook " + mine);
      }
    }
    System.out.println(
        "ansible differential: "
            + cases.size()
            + " inventories, "
            + hosts
            + " hosts, "
            + variables
            + " variables, "
            + patterns
            + " patterns, "
            + differences.size()
            + " differences");
    assertThat(differences)
        .as("differences from ansible-inventory / ansible --list-hosts")
        .isEmpty();
    assertThat(patterns).isGreaterThanOrEqualTo(30);
  }

  /**
   * Numbers are equal when both are integers of the same value, or both floating point of the same
   * value.
   */
  private static final Comparator<JsonNode> NUMBERS =
      (x, y) -> {
        if (x.equals(y)) return 0;
        if (x.isNumber() && y.isNumber()) {
          if (x.isIntegralNumber() && y.isIntegralNumber())
            return x.bigIntegerValue().compareTo(y.bigIntegerValue());
          if (x.isFloatingPointNumber() && y.isFloatingPointNumber())
            return Double.compare(x.doubleValue(), y.doubleValue());
        }
        return 1;
      };

  /** Each host's groups, with ancestors and {@code all}, from ansible-inventory's group tree. */
  private static Map<String, Set<String>> groupsOf(JsonNode list) {
    Map<String, List<String>> parents = new HashMap<>();
    Map<String, Set<String>> direct = new HashMap<>();
    for (Iterator<String> it = list.fieldNames(); it.hasNext(); ) {
      String g = it.next();
      if (g.equals("_meta")) continue;
      for (JsonNode c : list.get(g).path("children"))
        parents.computeIfAbsent(c.asText(), k -> new ArrayList<>()).add(g);
      for (JsonNode h : list.get(g).path("hosts"))
        direct.computeIfAbsent(h.asText(), k -> new TreeSet<>()).add(g);
    }
    list.path("_meta")
        .path("hostvars")
        .fieldNames()
        .forEachRemaining(h -> direct.computeIfAbsent(h, k -> new TreeSet<>()));
    Map<String, Set<String>> out = new HashMap<>();
    direct.forEach(
        (h, gs) -> {
          Set<String> all = new TreeSet<>(List.of("all"));
          List<String> todo = new ArrayList<>(gs);
          while (!todo.isEmpty()) {
            String g = todo.remove(todo.size() - 1);
            if (all.add(g)) todo.addAll(parents.getOrDefault(g, List.of()));
          }
          out.put(h, all);
        });
    return out;
  }

  private List<Case> cases() throws IOException {
    List<Case> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(CORPUS)) {
      for (Path d : dirs.sorted().toList()) {
        Path copy = tmp.resolve(d.getFileName().toString());
        copyTree(d, copy);
        List<String> sources = new ArrayList<>();
        List<String> patterns = new ArrayList<>();
        String playbook = null;
        for (String line : Files.readAllLines(copy.resolve("case"))) {
          int colon = line.indexOf(": ");
          if (colon < 0) continue;
          String key = line.substring(0, colon);
          String value = line.substring(colon + 2).strip();
          if (value.startsWith("\"") && value.endsWith("\""))
            value = value.substring(1, value.length() - 1);
          switch (key) {
            case "source" -> sources.add(value);
            case "pattern" -> patterns.add(value);
            case "playbook-dir" -> playbook = value;
            default -> throw new IllegalStateException(d + "/case: unknown key " + key);
          }
        }
        Files.delete(copy.resolve("case"));
        out.add(new Case(d.getFileName().toString(), copy, sources, playbook, patterns));
      }
    }
    return out;
  }

  /**
   * Copies a case; scripts (files starting with #!) get their executable bit whatever the checkout
   * did.
   */
  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
          if (Files.readString(p, StandardCharsets.ISO_8859_1).startsWith("#!")) {
            Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
          }
        }
      }
    }
  }

  private record Result(int exit, String out, String err) {}

  private Path emptyConfig() throws IOException {
    Path cfg = tmp.resolve("ansible.cfg");
    if (!Files.exists(cfg)) Files.writeString(cfg, "[defaults]\n");
    return cfg;
  }

  private Result run(Path cwd, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    // Ansible's configuration must not come from this machine; its cache goes to the test's
    // directory.
    pb.environment().put("ANSIBLE_CONFIG", emptyConfig().toString());
    pb.environment().put("ANSIBLE_HOME", tmp.resolve(".ansible").toString());
    pb.environment().put("ANSIBLE_LOCAL_TEMP", tmp.resolve(".ansible-tmp").toString());
    pb.environment().put("ANSIBLE_NOCOLOR", "1");
    Process p = pb.start();
    var err =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                return e.toString();
              }
            });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(cmd + " finished").isTrue();
    return new Result(p.exitValue(), out, err.join());
  }
}
