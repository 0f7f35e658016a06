package io.runbook.inventory;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.inventory.InventoryWalker.GroupDef;
import io.runbook.inventory.InventoryWalker.HostDef;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An executable (dynamic) inventory, run as Ansible's {@code script} plugin runs it: {@code FILE
 * --list} prints a JSON object whose keys are groups (a list of hosts, or {@code hosts}, {@code
 * vars} and {@code children}) and whose {@code _meta.hostvars} holds each host's variables; without
 * {@code _meta}, {@code FILE --host HOST} is run for each host. A script that fails is refused with
 * what it printed on stderr.
 */
final class ScriptInventory {
  private static final long TIMEOUT_SECONDS = 120;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final InventoryData data;
  private final String file;
  private final Problems problems;

  ScriptInventory(InventoryData data, String displayName, Problems problems) {
    this.data = data;
    this.file = displayName;
    this.problems = problems;
  }

  /** An executable file, or one starting with {@code #!}, is a script to Ansible. */
  static boolean isScript(Path path) {
    if (Files.isExecutable(path)) return true;
    try (var in = Files.newInputStream(path)) {
      byte[] two = in.readNBytes(2);
      return two.length == 2 && two[0] == '#' && two[1] == '!';
    } catch (IOException e) {
      return false;
    }
  }

  void parse(Path script) {
    Location at = Location.of(file);
    Object out = run(script, at, "--list");
    if (out == null) return;
    if (!(out instanceof Map<?, ?> groups)) {
      problems.add(
          at, "inventory script " + file + " --list printed JSON that is not an object of groups");
      return;
    }
    Set<String> seen = new LinkedHashSet<>();
    Map<?, ?> meta = null;
    for (Map.Entry<?, ?> e : groups.entrySet()) {
      String name = String.valueOf(e.getKey());
      if (name.equals("_meta")) {
        if (e.getValue() instanceof Map<?, ?> m) meta = m;
        continue;
      }
      GroupDef g = data.group(name, at);
      Object body = e.getValue();
      if (body instanceof List<?> hosts) {
        for (Object h : hosts) addHost(g, String.valueOf(h), seen);
      } else if (body instanceof Map<?, ?> m) {
        if (m.get("hosts") instanceof List<?> hosts)
          for (Object h : hosts) addHost(g, String.valueOf(h), seen);
        if (m.get("vars") instanceof Map<?, ?> vars) {
          vars.forEach(
              (k, v) ->
                  data.setVar(
                      "group '" + name + "'",
                      g.vars,
                      String.valueOf(k),
                      v,
                      at,
                      at,
                      script.getParent()));
        }
        if (m.get("children") instanceof List<?> children) {
          for (Object c : children) data.addChild(g, data.group(String.valueOf(c), at), at);
        }
      }
    }
    Map<?, ?> hostvars =
        meta == null ? null : meta.get("hostvars") instanceof Map<?, ?> hv ? hv : Map.of();
    for (String h : seen) {
      Object vars = hostvars != null ? hostvars.get(h) : run(script, at, "--host", h);
      if (vars instanceof Map<?, ?> m) {
        m.forEach(
            (k, v) ->
                data.setVar(
                    "host '" + h + "'",
                    data.hosts.get(h).vars,
                    String.valueOf(k),
                    v,
                    at,
                    at,
                    script.getParent()));
      }
    }
  }

  private void addHost(GroupDef g, String name, Set<String> seen) {
    HostDef h = data.host(name, Location.of(file));
    data.addHost(g, h);
    seen.add(name);
  }

  /** The JSON the script printed, or null with a problem when it failed. */
  private Object run(Path script, Location at, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(script.toAbsolutePath().toString());
    cmd.addAll(List.of(args));
    String shown = file + " " + String.join(" ", args);
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      CompletableFuture<byte[]> err =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                  return new byte[0];
                }
              });
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        problems.add(
            at, "inventory script " + shown + " did not finish within " + TIMEOUT_SECONDS + " s");
        return null;
      }
      String stderr = new String(err.join(), StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0) {
        problems.add(
            at,
            "inventory script "
                + shown
                + " failed (exit "
                + p.exitValue()
                + ")"
                + (stderr.isEmpty() ? "" : ": " + abbreviate(stderr)));
        return null;
      }
      try {
        return JSON.readValue(out, Object.class);
      } catch (IOException e) {
        problems.add(
            at,
            "inventory script "
                + shown
                + " printed no valid JSON: "
                + abbreviate(String.valueOf(e.getMessage())));
        return null;
      }
    } catch (IOException e) {
      problems.add(at, "cannot run inventory script " + shown + ": " + e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problems.add(at, "interrupted while running inventory script " + shown);
      return null;
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 2000 ? s.substring(0, 2000) + " …" : s;
  }
}
