package io.runbook.step;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version, major.minor.patch with an optional pre-release, ordered by SemVer 2.0.0
 * precedence: numbers compare numerically, a pre-release sorts before its release, build metadata
 * ({@code +...}) is ignored.
 *
 * @param pre the pre-release identifiers ("rc", "1" for {@code -rc.1}); empty for a release
 */
record Semver(long major, long minor, long patch, List<String> pre) implements Comparable<Semver> {
  private static final String CORE = "v?(\\d{1,18})\\.(\\d{1,18})";
  private static final String REST =
      "(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?";
  private static final Pattern EXACT = Pattern.compile(CORE + "\\.(\\d{1,18})" + REST);
  // Inside text: not glued to a preceding digit or dot ("1.2.3.4" is no semver), nor to a following
  // one.
  private static final String AROUND_BEFORE = "(?<![\\d.])";
  private static final String AROUND_AFTER = "(?![0-9A-Za-z]|\\.\\d)";
  private static final Pattern FULL_IN_TEXT =
      Pattern.compile(AROUND_BEFORE + EXACT.pattern() + AROUND_AFTER);
  private static final Pattern SHORT_IN_TEXT =
      Pattern.compile(AROUND_BEFORE + CORE + REST + AROUND_AFTER);

  Semver {
    pre = List.copyOf(pre);
  }

  /** The whole string as a version ("2.0.0", "v2.0.0-rc.1"), or empty. */
  static Optional<Semver> parse(String s) {
    Matcher m = EXACT.matcher(s.strip());
    return m.matches() ? Optional.of(of(m, true)) : Optional.empty();
  }

  /**
   * The first version-looking token in a program's output: "sampled 1.2.3", "nginx/1.22.1",
   * "go1.21.5". A three-part version wins over an earlier two-part one ("15.5" reads as 15.5.0 only
   * when nothing better is there).
   */
  static Optional<Semver> find(String text) {
    Matcher full = FULL_IN_TEXT.matcher(text);
    if (full.find()) return Optional.of(of(full, true));
    Matcher shortened = SHORT_IN_TEXT.matcher(text);
    return shortened.find() ? Optional.of(of(shortened, false)) : Optional.empty();
  }

  private static Semver of(Matcher m, boolean hasPatch) {
    String pre = m.group(hasPatch ? 4 : 3);
    return new Semver(
        Long.parseLong(m.group(1)),
        Long.parseLong(m.group(2)),
        hasPatch ? Long.parseLong(m.group(3)) : 0,
        pre == null ? List.of() : List.of(pre.split("\\.")));
  }

  /**
   * How going from this version to {@code target} moves: "none", "patch", "minor", "major", or
   * "downgrade". When only the pre-release differs (2.0.0-rc.1 to 2.0.0) it is a "patch".
   */
  String bumpTo(Semver target) {
    int c = target.compareTo(this);
    if (c < 0) return "downgrade";
    if (c == 0) return "none";
    if (target.major != major) return "major";
    if (target.minor != minor) return "minor";
    return "patch";
  }

  @Override
  public int compareTo(Semver o) {
    int c = Long.compare(major, o.major);
    if (c == 0) c = Long.compare(minor, o.minor);
    if (c == 0) c = Long.compare(patch, o.patch);
    if (c != 0) return c;
    if (pre.isEmpty() || o.pre.isEmpty()) return Boolean.compare(pre.isEmpty(), o.pre.isEmpty());
    for (int i = 0; i < Math.min(pre.size(), o.pre.size()); i++) {
      c = compareIdentifier(pre.get(i), o.pre.get(i));
      if (c != 0) return c;
    }
    return Integer.compare(pre.size(), o.pre.size());
  }

  /** Numeric identifiers compare as numbers (of any length) and sort before alphanumeric ones. */
  private static int compareIdentifier(String a, String b) {
    boolean na = a.chars().allMatch(Character::isDigit);
    boolean nb = b.chars().allMatch(Character::isDigit);
    if (na && nb) {
      String x = a.replaceFirst("^0+(?=.)", "");
      String y = b.replaceFirst("^0+(?=.)", "");
      return x.length() != y.length() ? Integer.compare(x.length(), y.length()) : x.compareTo(y);
    }
    if (na != nb) return na ? -1 : 1;
    return a.compareTo(b);
  }

  @Override
  public String toString() {
    return major + "." + minor + "." + patch + (pre.isEmpty() ? "" : "-" + String.join(".", pre));
  }
}
