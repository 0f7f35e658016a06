package io.runbook.transport;

/** Privilege escalation for a command ({@code become: true} in a runbook). */
public record Become(boolean enabled, String user) {
  public static final Become NONE = new Become(false, null);

  public static Become as(String user) {
    return new Become(true, user == null || user.isBlank() ? "root" : user);
  }

  /** Wraps a shell command so that it runs through {@code sudo -n} as {@link #user()}. */
  public String wrap(String command) {
    if (!enabled) return command;
    return "sudo -n -H -u " + Shell.quote(user) + " -- /bin/sh -c " + Shell.quote(command);
  }
}
