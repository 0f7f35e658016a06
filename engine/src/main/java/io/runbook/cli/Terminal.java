package io.runbook.cli;

import java.io.Console;
import java.lang.reflect.Method;

/**
 * The terminal a person answers on, if there is one. Up to JDK 21 {@link System#console()} is null
 * without a terminal; from JDK 22 it is never null, and {@code Console.isTerminal()} (JDK 22+,
 * called reflectively: the code is built for 17) tells whether stdin and stdout are one. Without
 * that, a run piped or under CI would prompt, and wait, where it must refuse or stay plain.
 */
final class Terminal {
  private Terminal() {}

  /** The console when stdin and stdout are a terminal, else null. */
  @SuppressWarnings("SystemConsoleNull") // the null test is for JDK 17-21; isTerminal() for 22+
  static Console console() {
    Console c = System.console();
    if (c == null) return null;
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return Boolean.TRUE.equals(isTerminal.invoke(c)) ? c : null;
    } catch (ReflectiveOperationException before22) {
      return c; // JDK 17 to 21: a console at all means a terminal
    }
  }

  static boolean present() {
    return console() != null;
  }
}
