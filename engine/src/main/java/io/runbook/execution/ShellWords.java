package io.runbook.execution;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into words as Python's {@code shlex.split} does, which is how Ansible
 * splits ssh args.
 */
final class ShellWords {
  private ShellWords() {}

  /**
   * @throws IllegalArgumentException on an unclosed quote or a trailing backslash
   */
  static List<String> split(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean inWord = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) throw new IllegalArgumentException("unclosed single quote");
        w.append(line, i + 1, end);
        i = end;
        inWord = true;
      } else if (c == '"') {
        inWord = true;
        for (i++; ; i++) {
          if (i >= line.length()) throw new IllegalArgumentException("unclosed double quote");
          char d = line.charAt(i);
          if (d == '"') break;
          if (d == '\\' && i + 1 < line.length() && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0)
            d = line.charAt(++i);
          w.append(d);
        }
      } else if (c == '\\') {
        if (i + 1 >= line.length()) throw new IllegalArgumentException("trailing backslash");
        w.append(line.charAt(++i));
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) words.add(w.toString());
        w.setLength(0);
        inWord = false;
      } else {
        w.append(c);
        inWord = true;
      }
    }
    if (inWord) words.add(w.toString());
    return words;
  }
}
