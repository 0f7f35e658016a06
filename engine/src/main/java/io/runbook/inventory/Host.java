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
 * A host of the inventory with its variables already merged (see {@link InventoryLoader} for the order).
 * The accessors read Ansible's connection variables and fall back to the defaults ssh would use. A host
 * loaded by {@link InventoryLoader} has had every one of them checked; on a host built by hand, an invalid
 * value throws {@link RunbookException} ({@link ErrorCode#INVALID_INPUT}).
 *
 * @param vars every variable of the host, in the order each name was first set
 * @param groups every group the host belongs to, including ancestors and {@code all}, lowest precedence first
 * @param location where the host is first listed
 */
public record Host(String name, Map<String, Object> vars, List<String> groups, Location location) {
  public Host {
    Objects.requireNonNull(name, "name");
    // YAML values may be null, which Map.copyOf rejects; order matters to people reading a listing.
    vars = Collections.unmodifiableMap(new LinkedHashMap<>(vars));
    groups = List.copyOf(groups);
  }

  /** {@code ssh} (default), {@code local} or {@code docker}, from {@code ansible_connection}. */
  public String connection() {
    Object v = vars.get(AnsibleVars.CONNECTION);
    if (v == null) return "ssh";
    return AnsibleVars.connection(v).orElseThrow(() -> invalid(AnsibleVars.CONNECTION, v, "ssh, local or docker"));
  }

  /** Where to connect: {@code ansible_host}, else the inventory name. */
  public String address() {
    String a = AnsibleVars.string(vars.get(AnsibleVars.HOST));
    return a == null || a.isBlank() ? name : a;
  }

  /** {@code ansible_port}, else 22. */
  public int port() {
    Object v = vars.get(AnsibleVars.PORT);
    if (v == null) return 22;
    return AnsibleVars.port(v).orElseThrow(() -> invalid(AnsibleVars.PORT, v, "an integer from 1 to 65535"));
  }

  /** {@code ansible_user}, or null for the user running runbook (as ssh itself defaults). */
  public String user() {
    return AnsibleVars.string(vars.get(AnsibleVars.USER));
  }

  /**
   * {@code ansible_ssh_private_key_file} (or {@code ansible_private_key_file}) with {@code ~} expanded. The
   * loader has already made relative paths absolute against the inventory file's directory.
   */
  public Optional<Path> privateKey() {
    String k = AnsibleVars.string(vars.get(AnsibleVars.KEY_FILE));
    if (k == null) k = AnsibleVars.string(vars.get(AnsibleVars.KEY_FILE_SHORT));
    return k == null || k.isBlank() ? Optional.empty() : Optional.of(AnsibleVars.expandHome(k));
  }

  /** The deployment mode ({@code mode} variable), which picks the runbook's steps: compose, kubernetes, binary... */
  public Optional<String> mode() {
    return Optional.ofNullable(AnsibleVars.string(vars.get(AnsibleVars.MODE)));
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
    return new RunbookException(ErrorCode.INVALID_INPUT, location + ": host '" + name + "': " + var + " must be "
        + expected + ", not '" + value + "'");
  }
}
