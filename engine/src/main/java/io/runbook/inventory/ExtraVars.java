package io.runbook.inventory;

import io.runbook.yaml.InputFiles;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -e} arguments as Ansible takes them: {@code @FILE} is a YAML or JSON file (vault-encrypted
 * or holding {@code !vault} values) that must hold a mapping; an argument starting with a brace or
 * a bracket is inline YAML/JSON; anything else is {@code KEY=VALUE} pairs separated by spaces
 * (quotes group words). A later argument overrides an earlier one, whole value by whole value.
 *
 * <p>One difference, kept from runbook's own {@code -e}: in {@code KEY=VALUE}, a value of digits is
 * a number and {@code true}/{@code false} a boolean (Ansible keeps both as strings), so that {@code
 * -e n=3} compares as a number in templates as it always has.
 */
public final class ExtraVars {
  private static final Pattern KEY_VALUE =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(.*)", Pattern.DOTALL);

  private ExtraVars() {}

  /**
   * Parses the {@code -e} values, in order, into one map of variables.
   *
   * @param secrets receives the plaintext of every vaulted value read
   * @param cwd against which {@code @FILE} paths resolve
   */
  public static Map<String, Object> parse(
      List<String> args, Vault vault, Set<String> secrets, Path cwd, Problems problems) {
    Map<String, Object> vars = new LinkedHashMap<>();
    if (args == null) return vars;
    AnsibleYaml yaml = new AnsibleYaml(vault, secrets);
    for (String arg : args) {
      Location at = Location.of("-e " + arg);
      if (arg.isEmpty()) continue;
      if (arg.startsWith("@")) {
        Path file = cwd.resolve(AnsibleVars.expandHome(arg.substring(1)).toString());
        Optional<String> read = InputFiles.read(file, arg.substring(1), problems);
        if (read.isEmpty()) continue;
        String text = read.get();
        mapping(
            yaml.parse(file, arg.substring(1), text, problems).map(d -> d.root()).orElse(Map.of()),
            at,
            vars,
            problems);
      } else if (arg.startsWith("{") || arg.startsWith("[")) {
        mapping(
            yaml.parse(null, "-e", arg, problems).map(d -> d.root()).orElse(Map.of()),
            at,
            vars,
            problems);
      } else if (arg.startsWith("/") || arg.startsWith(".")) {
        problems.add(at, "to read variables from a file, write -e @" + arg);
      } else {
        keyValues(arg, at, vars, problems);
      }
    }
    return vars;
  }

  private static void mapping(
      Object root, Location at, Map<String, Object> vars, Problems problems) {
    if (root instanceof Map<?, ?> m) {
      m.forEach((k, v) -> vars.put(String.valueOf(k), v));
    } else {
      problems.add(
          at,
          "extra variables must be a mapping of names to values, e.g. -e '{\"version\": \"2.1\"}'");
    }
  }

  private static void keyValues(
      String arg, Location at, Map<String, Object> vars, Problems problems) {
    List<String> pairs;
    try {
      pairs = IniInventory.shlex(arg, false);
    } catch (IllegalArgumentException e) {
      problems.add(at, "cannot read KEY=VALUE pairs: " + e.getMessage());
      return;
    }
    // 'msg=hello world' stays one variable, as runbook has always read it; 'a=1 b=2' is two.
    if (!pairs.stream().allMatch(p -> KEY_VALUE.matcher(p).matches())) pairs = List.of(arg);
    for (String pair : pairs) {
      Matcher m = KEY_VALUE.matcher(pair);
      if (!m.matches()) {
        problems.add(at, "expected KEY=VALUE with KEY an identifier such as target_version");
        return;
      }
      vars.put(m.group(1), scalar(m.group(2)));
    }
  }

  /** {@code -e n=3} is a number and {@code -e x=true} a boolean, as they would be in YAML. */
  private static Object scalar(String v) {
    if (v.equals("true") || v.equals("false")) return Boolean.valueOf(v);
    if (v.matches("-?[0-9]{1,18}")) return Long.parseLong(v);
    return v;
  }
}
