package io.runbook.inventory;

import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The connection variables runbook reads from an inventory: their names, how a value is read, and
 * the checks each definition gets when the inventory is loaded, so that a bad port is reported at
 * the line that sets it rather than when a host is first contacted.
 */
final class AnsibleVars {
  static final String CONNECTION = "ansible_connection";
  static final String HOST = "ansible_host";
  static final String PORT = "ansible_port";
  static final String USER = "ansible_user";
  // Ansible's deprecated names, still common in old inventories; Ansible's ssh plugin prefers them.
  static final String SSH_HOST = "ansible_ssh_host";
  static final String SSH_PORT = "ansible_ssh_port";
  static final String SSH_USER = "ansible_ssh_user";
  static final List<String> PASSWORDS =
      List.of("ansible_password", "ansible_ssh_pass", "ansible_ssh_password");
  static final String KEY_FILE = "ansible_ssh_private_key_file";
  static final String KEY_FILE_SHORT = "ansible_private_key_file";
  static final String BECOME = "ansible_become";
  static final String BECOME_USER = "ansible_become_user";
  static final String MODE = "mode";

  static final List<String> CONNECTIONS = List.of("ssh", "local", "docker");
  // Ansible inventories often spell plugins by their fully qualified names.
  private static final Map<String, String> CONNECTION_ALIASES =
      Map.of(
          "ansible.builtin.ssh", "ssh",
          "ansible.builtin.local", "local",
          "community.docker.docker", "docker");
  private static final List<String> STRING_VARS =
      List.of(HOST, USER, SSH_HOST, SSH_USER, KEY_FILE, KEY_FILE_SHORT, BECOME_USER);
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private AnsibleVars() {}

  static boolean isIdentifier(String name) {
    return IDENTIFIER.matcher(name).matches();
  }

  /** The connection type, with Ansible's plugin names mapped to ours; empty when not supported. */
  static Optional<String> connection(Object value) {
    if (!(value instanceof String s)) return Optional.empty();
    String c = CONNECTION_ALIASES.getOrDefault(s, s);
    return CONNECTIONS.contains(c) ? Optional.of(c) : Optional.empty();
  }

  /**
   * A port from an integer or, as Ansible accepts, a string of digits; empty when out of 1-65535.
   */
  static OptionalInt port(Object value) {
    BigInteger n = null;
    if (value instanceof Long || value instanceof Integer)
      n = BigInteger.valueOf(((Number) value).longValue());
    else if (value instanceof BigInteger b) n = b;
    else if (value instanceof String s && s.matches("[0-9]{1,6}")) n = new BigInteger(s);
    if (n == null || n.signum() <= 0 || n.compareTo(BigInteger.valueOf(65535)) > 0)
      return OptionalInt.empty();
    return OptionalInt.of(n.intValue());
  }

  /**
   * YAML 1.2 reads {@code yes} as a string, but Ansible inventories use it as a boolean everywhere.
   */
  static Optional<Boolean> bool(Object value) {
    if (value instanceof Boolean b) return Optional.of(b);
    if (value instanceof Long l && (l == 0 || l == 1)) return Optional.of(l == 1);
    if (value instanceof String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "true", "yes", "on", "y", "1" -> Optional.of(true);
        case "false", "no", "off", "n", "0" -> Optional.of(false);
        default -> Optional.empty();
      };
    }
    return Optional.empty();
  }

  /** A scalar as text; null for null, maps, lists and booleans. */
  static String string(Object value) {
    return value instanceof String || value instanceof Number ? String.valueOf(value) : null;
  }

  static boolean isKeyFile(String name) {
    return name.equals(KEY_FILE) || name.equals(KEY_FILE_SHORT);
  }

  /**
   * {@code ~} and {@code ~/x} are the user's home; {@code ~other/x} is left alone, as ssh would not
   * expand it either.
   */
  static Path expandHome(String path) {
    String home = System.getProperty("user.home");
    if (path.equals("~")) return Path.of(home);
    if (path.startsWith("~/")) return Path.of(home).resolve(path.substring(2));
    return Path.of(path);
  }

  /**
   * Adds a problem for each thing wrong with one definition of a variable.
   *
   * @param owner names where it is defined in messages: {@code "host 'web1'"} or {@code "group
   *     'web'"}
   */
  static void check(
      String owner,
      String name,
      Object value,
      Location keyAt,
      Location valueAt,
      Problems problems) {
    if (!isIdentifier(name)) {
      problems.add(
          keyAt,
          owner
              + ": variable name '"
              + name
              + "' cannot be used in templates: use letters, digits"
              + " and '_' only, not starting with a digit (e.g. '"
              + identifierFor(name)
              + "')");
      return;
    }
    if (value == null) return; // an empty value unsets nothing and defaults apply
    switch (name) {
      case CONNECTION -> {
        // Hosts runbook does not drive (winrm, network_cli, ...) load; targeting one is the error.
        if (!(value instanceof String)) {
          problems.add(
              valueAt, owner + ": ansible_connection must be a string, not " + shown(value));
        }
      }
      case PORT, SSH_PORT -> {
        if (port(value).isEmpty()) {
          problems.add(
              valueAt,
              owner + ": " + name + " must be an integer from 1 to 65535, not " + shown(value));
        }
      }
      case BECOME -> {
        if (bool(value).isEmpty()) {
          problems.add(
              valueAt, owner + ": ansible_become must be true or false, not " + shown(value));
        }
      }
      default -> {
        if (STRING_VARS.contains(name) && string(value) == null) {
          problems.add(valueAt, owner + ": " + name + " must be a string, not " + shown(value));
        }
      }
    }
  }

  private static String shown(Object value) {
    if (value instanceof String s) return "'" + s + "'";
    if (value instanceof Map) return "a map";
    if (value instanceof List) return "a list";
    return String.valueOf(value);
  }

  /**
   * The identifier a person most likely meant: {@code my-var} → {@code my_var}, {@code 1st} →
   * {@code _1st}.
   */
  static String identifierFor(String name) {
    String s = name.replaceAll("[^A-Za-z0-9_]", "_");
    if (s.isEmpty() || Character.isDigit(s.charAt(0))) s = "_" + s;
    return s;
  }
}
