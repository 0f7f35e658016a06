package io.runbook.inventory;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.yaml.Location;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A host of the inventory with its variables already merged (see {@link InventoryLoader} for the
 * order). The accessors read Ansible's connection variables and fall back to the defaults ssh would
 * use. A host loaded by {@link InventoryLoader} has had every one of them checked; on a host built
 * by hand, an invalid value throws {@link RunbookException} ({@link ErrorCode#INVALID_INPUT}).
 *
 * @param vars every variable of the host, in the order each name was first set
 * @param groups every group the host belongs to, including ancestors and {@code all}, lowest
 *     precedence first
 * @param location where the host is first listed
 */
public record Host(String name, Map<String, Object> vars, List<String> groups, Location location) {
  public Host {
    Objects.requireNonNull(name, "name");
    // YAML values may be null, which Map.copyOf rejects; order matters to people reading a listing.
    vars = Collections.unmodifiableMap(new LinkedHashMap<>(vars));
    groups = List.copyOf(groups);
  }

  /**
   * {@code ssh} (default), {@code local} or {@code docker}, from {@code ansible_connection}
   * (Ansible's plugin names mapped to these); any other connection (winrm, network_cli, …) is
   * returned as written, and {@link #drivable()} is false.
   */
  public String connection() {
    Object v = vars.get(AnsibleVars.CONNECTION);
    if (v == null) return "ssh";
    return AnsibleVars.connection(v).orElse(String.valueOf(v));
  }

  /** Whether runbook can reach this host: its connection is ssh, local or docker. */
  public boolean drivable() {
    return AnsibleVars.CONNECTIONS.contains(connection());
  }

  /**
   * Where to connect: {@code ansible_ssh_host} (Ansible's deprecated name, which wins when both are
   * set, as in Ansible's ssh plugin), else {@code ansible_host}, else the inventory name.
   */
  public String address() {
    String a = AnsibleVars.string(vars.get(AnsibleVars.SSH_HOST));
    if (a == null || a.isBlank()) a = AnsibleVars.string(vars.get(AnsibleVars.HOST));
    return a == null || a.isBlank() ? name : a;
  }

  /** {@code ansible_ssh_port}, else {@code ansible_port}, else 22. */
  public int port() {
    String var = vars.get(AnsibleVars.SSH_PORT) != null ? AnsibleVars.SSH_PORT : AnsibleVars.PORT;
    Object v = vars.get(var);
    if (v == null) return 22;
    return AnsibleVars.port(v).orElseThrow(() -> invalid(var, v, "an integer from 1 to 65535"));
  }

  /**
   * {@code ansible_ssh_user}, else {@code ansible_user}, or null for the user running runbook (as
   * ssh defaults).
   */
  public String user() {
    String u = AnsibleVars.string(vars.get(AnsibleVars.SSH_USER));
    return u != null ? u : AnsibleVars.string(vars.get(AnsibleVars.USER));
  }

  /**
   * The SSH password, from {@code ansible_password}, {@code ansible_ssh_pass} or {@code
   * ansible_ssh_password} (the later name wins when several are set, as in Ansible's ssh plugin);
   * empty when none is set.
   */
  public Optional<String> password() {
    String p = null;
    for (String var : AnsibleVars.PASSWORDS) {
      String v = AnsibleVars.string(vars.get(var));
      if (v != null) p = v;
    }
    return Optional.ofNullable(p);
  }

  /**
   * {@code ansible_ssh_private_key_file} (or {@code ansible_private_key_file}) with {@code ~}
   * expanded. The loader has already made relative paths absolute against the inventory file's
   * directory.
   */
  public Optional<Path> privateKey() {
    String k = AnsibleVars.string(vars.get(AnsibleVars.KEY_FILE));
    if (k == null) k = AnsibleVars.string(vars.get(AnsibleVars.KEY_FILE_SHORT));
    return k == null || k.isBlank() ? Optional.empty() : Optional.of(AnsibleVars.expandHome(k));
  }

  /**
   * The deployment mode ({@code mode} variable), which picks the runbook's steps: compose,
   * kubernetes, binary...
   */
  public Optional<String> mode() {
    return mode(AnsibleVars.MODE);
  }

  /**
   * The deployment mode a runbook reads from {@code variable} (its {@code mode_variable}); empty
   * when unset.
   */
  public Optional<String> mode(String variable) {
    Object v = vars.get(variable);
    return v instanceof String s ? Optional.of(s) : Optional.empty();
  }

  /** {@code ansible_become}: run commands through sudo. */
  public boolean become() {
    Object v = vars.get(AnsibleVars.BECOME);
    if (v == null) return false;
    return AnsibleVars.bool(v).orElseThrow(() -> invalid(AnsibleVars.BECOME, v, "true or false"));
  }

  /** {@code ansible_become_user}, else root. */
  public String becomeUser() {
    String u = AnsibleVars.string(vars.get(AnsibleVars.BECOME_USER));
    return u == null || u.isBlank() ? "root" : u;
  }

  private RunbookException invalid(String var, Object value, String expected) {
    return new RunbookException(
        ErrorCode.INVALID_INPUT,
        location
            + ": host '"
            + name
            + "': "
            + var
            + " must be "
            + expected
            + ", not '"
            + value
            + "'");
  }
}
