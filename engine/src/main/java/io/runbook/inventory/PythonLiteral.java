package io.runbook.inventory;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's {@code ast.literal_eval} for the values of INI inventories: numbers, strings, {@code
 * True}, {@code False}, {@code None}, lists, tuples (as lists), sets (as lists) and dicts. Anything
 * else is no literal, and Ansible keeps such a value as the text it is.
 */
final class PythonLiteral {
  private final String s;
  private int i;

  private PythonLiteral(String s) {
    this.s = s;
  }

  /** The value {@code text} stands for, or {@code text} itself when it is not a Python literal. */
  static Object valueOf(String text) {
    PythonLiteral p = new PythonLiteral(text);
    try {
      p.skipBlanks();
      Object v = p.value();
      p.skipBlanks();
      return p.i == text.length() ? v : text;
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return text;
    }
  }

  private void skipBlanks() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
  }

  private IllegalArgumentException no() {
    return new IllegalArgumentException("not a literal at " + i);
  }

  private Object value() {
    skipBlanks();
    char c = s.charAt(i);
    if (c == '-' || c == '+') {
      i++;
      skipBlanks();
      Object n = number();
      if (c == '+') return n;
      if (n instanceof Long l) return -l;
      if (n instanceof BigInteger b) {
        BigInteger neg = b.negate();
        return neg.bitLength() < 64 ? (Object) neg.longValue() : neg;
      }
      return -((Double) n);
    }
    if (Character.isDigit(c)
        || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) return number();
    if (c == '[') return sequence(']');
    if (c == '(') return tuple();
    if (c == '{') return dictOrSet();
    if (c == '\'' || c == '"' || Character.isLetter(c)) {
      String word = word();
      if (word.equals("True")) return true;
      if (word.equals("False")) return false;
      if (word.equals("None")) return null;
      return strings(word);
    }
    throw no();
  }

  private String word() {
    int start = i;
    while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
    return s.substring(start, i);
  }

  /**
   * One or more adjacent string literals, concatenated; {@code prefix} is what stood before the
   * first quote.
   */
  private String strings(String prefix) {
    StringBuilder out = new StringBuilder();
    boolean first = true;
    while (true) {
      String p = first ? prefix : word();
      String lower = p.toLowerCase(Locale.ROOT);
      if (!(lower.isEmpty() || lower.equals("r") || lower.equals("u")))
        throw no(); // a name, bytes or an f-string
      if (i >= s.length() || (s.charAt(i) != '\'' && s.charAt(i) != '"')) throw no();
      out.append(string(lower.equals("r")));
      first = false;
      int save = i;
      skipBlanks();
      if (i < s.length()
          && (s.charAt(i) == '\'' || s.charAt(i) == '"' || Character.isLetter(s.charAt(i))))
        continue;
      i = save;
      return out.toString();
    }
  }

  private String string(boolean raw) {
    char q = s.charAt(i);
    boolean triple = s.startsWith(String.valueOf(q).repeat(3), i);
    i += triple ? 3 : 1;
    StringBuilder out = new StringBuilder();
    while (true) {
      char c = s.charAt(i);
      if (c == q && (!triple || s.startsWith(String.valueOf(q).repeat(3), i))) {
        i += triple ? 3 : 1;
        return out.toString();
      }
      if (c == '\n' && !triple) throw no();
      if (c == '\\') {
        char e = s.charAt(i + 1);
        if (raw) {
          out.append(c).append(e);
          i += 2;
          continue;
        }
        i += 2;
        switch (e) {
          case 'n' -> out.append('\n');
          case 't' -> out.append('\t');
          case 'r' -> out.append('\r');
          case '0', '1', '2', '3', '4', '5', '6', '7' -> {
            int start = i - 1;
            while (i < s.length() && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '7') i++;
            out.append((char) Integer.parseInt(s.substring(start, i), 8));
          }
          case 'x' -> hex(out, 2);
          case 'u' -> hex(out, 4);
          case 'U' -> hex(out, 8);
          case 'a' -> out.append('\u0007');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'v' -> out.append('\u000b');
          case '\\', '\'', '"' -> out.append(e);
          case '\n' -> {}
          default -> out.append('\\').append(e);
        }
        continue;
      }
      out.append(c);
      i++;
    }
  }

  private void hex(StringBuilder out, int digits) {
    out.appendCodePoint(Integer.parseInt(s.substring(i, i + digits), 16));
    i += digits;
  }

  private Object number() {
    int start = i;
    while (i < s.length()
        && (Character.isLetterOrDigit(s.charAt(i))
            || s.charAt(i) == '_'
            || s.charAt(i) == '.'
            || ((s.charAt(i) == '+' || s.charAt(i) == '-')
                && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')))) {
      i++;
    }
    String t = s.substring(start, i);
    if (t.contains("__") || t.endsWith("_") || t.startsWith("_")) throw no();
    String n = t.replace("_", "");
    String lower = n.toLowerCase(Locale.ROOT);
    BigInteger b;
    if (lower.startsWith("0x")) b = new BigInteger(n.substring(2), 16);
    else if (lower.startsWith("0o")) b = new BigInteger(n.substring(2), 8);
    else if (lower.startsWith("0b")) b = new BigInteger(n.substring(2), 2);
    else if (n.matches("[0-9]+")) {
      // Python 3 has no 0755: a leading zero is allowed only in zero itself.
      if (n.length() > 1 && n.startsWith("0") && !n.matches("0+")) throw no();
      b = new BigInteger(n);
    } else if (n.matches("([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?")) {
      return Double.parseDouble(n);
    } else {
      throw no();
    }
    return b.bitLength() < 64 ? (Object) b.longValue() : b;
  }

  private List<Object> sequence(char close) {
    i++;
    List<Object> out = new ArrayList<>();
    skipBlanks();
    while (s.charAt(i) != close) {
      out.add(value());
      skipBlanks();
      if (s.charAt(i) == ',') {
        i++;
        skipBlanks();
      } else if (s.charAt(i) != close) {
        throw no();
      }
    }
    i++;
    return out;
  }

  private Object tuple() {
    int save = i;
    i++;
    skipBlanks();
    if (s.charAt(i) == ')') {
      i++;
      return List.of();
    }
    Object first = value();
    skipBlanks();
    if (s.charAt(i) == ')') {
      i++;
      return first; // (x) is x, not a tuple
    }
    i = save;
    return sequence(')');
  }

  private Object dictOrSet() {
    int save = i;
    i++;
    skipBlanks();
    if (s.charAt(i) == '}') {
      i++;
      return new LinkedHashMap<>();
    }
    value();
    skipBlanks();
    boolean isSet = s.charAt(i) != ':';
    i = save;
    if (isSet) return sequence('}');
    i++;
    Map<String, Object> out = new LinkedHashMap<>();
    skipBlanks();
    while (s.charAt(i) != '}') {
      Object k = value();
      skipBlanks();
      if (s.charAt(i) != ':') throw no();
      i++;
      out.put(String.valueOf(k), value());
      skipBlanks();
      if (s.charAt(i) == ',') {
        i++;
        skipBlanks();
      } else if (s.charAt(i) != '}') {
        throw no();
      }
    }
    i++;
    return out;
  }
}
