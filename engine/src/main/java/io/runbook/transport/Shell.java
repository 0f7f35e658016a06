package io.runbook.transport;

import java.util.List;
import java.util.regex.Pattern;

/** POSIX shell quoting, so that argv-style commands reach the host unchanged. */
public final class Shell {
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private Shell() {}

  public static String quote(String arg) {
    if (!arg.isEmpty() && SAFE.matcher(arg).matches()) return arg;
    return "'" + arg.replace("'", "'\"'\"'") + "'";
  }

  public static String join(List<String> argv) {
    StringBuilder sb = new StringBuilder();
    for (String a : argv) {
      if (sb.length() > 0) sb.append(' ');
      sb.append(quote(a));
    }
    return sb.toString();
  }
}
