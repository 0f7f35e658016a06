package io.runbook.transport;

import java.util.Objects;

/**
 * A password or passphrase. Its {@link #toString()} never shows it, so that it cannot leak through
 * a record's generated toString, a message or a log; only {@link #reveal()} gives it, to the one
 * place that sends it.
 */
public final class Secret {
  private final String value;

  public Secret(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  /** null for null, so that optional secrets stay optional. */
  public static Secret of(String value) {
    return value == null ? null : new Secret(value);
  }

  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "(secret)";
  }
}
