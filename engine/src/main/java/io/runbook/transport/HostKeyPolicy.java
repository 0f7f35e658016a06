package io.runbook.transport;

/**
 * What to do with a host key that {@code known_hosts} does not vouch for. A changed key is always
 * refused.
 */
public enum HostKeyPolicy {
  /**
   * Only hosts with their key in {@code known_hosts} are trusted ({@code
   * StrictHostKeyChecking=yes}).
   */
  STRICT,
  /**
   * A host with no entry yet is trusted on first use and its key is appended to {@code known_hosts}
   * ({@code StrictHostKeyChecking=accept-new}, {@code --accept-new-host-keys}).
   */
  ACCEPT_NEW
}
