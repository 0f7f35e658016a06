package io.runbook.transport;

/** Privilege escalation for a command ({@code become: true} in a runbook). */
public record Become(boolean enabled, String user) {
  public static final Become NONE = new Become(false, null);

  public static Become as(String user) {
    return new Become(true, user == null || user.isBlank() ? "root" : user);
  }

  /**
   * Wraps a shell command for a host whose sudo wants a password, which the caller sends as the
   * first line of stdin, before the command's own input. The shell reads that line into a variable
   * ({@code read} is a builtin: the password is in no process's argv); if sudo needs no password
   * after all (NOPASSWD), the command runs as {@link #wrap} would run it, and never sees the line;
   * otherwise sudo reads it with {@code -S}, and {@code -k} makes sure it does, so the line cannot
   * reach the command's input.
   */
  public String wrapWithPassword(String command) {
    if (!enabled) return command;
    String sudo = "-H -u " + Shell.quote(user) + " -- /bin/sh -c " + Shell.quote(command);
    return "IFS= read -r runbook_become || exit 1\n"
        + "if sudo -n -u "
        + Shell.quote(user)
        + " true 2>/dev/null; then\n"
        + "  unset runbook_become; sudo -n "
        + sudo
        + "\n"
        + "else\n"
        + "  { printf '%s\\n' \"$runbook_become\"; unset runbook_become; exec cat; } | sudo -k -S -p '' "
        + sudo
        + "\n"
        + "fi";
  }

  /** Wraps a shell command so that it runs through {@code sudo -n} as {@link #user()}. */
  public String wrap(String command) {
    if (!enabled) return command;
    return "sudo -n -H -u " + Shell.quote(user) + " -- /bin/sh -c " + Shell.quote(command);
  }
}
