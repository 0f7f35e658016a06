package io.runbook;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages under {@code io.runbook} depend on each other without cycles, and ARCHITECTURE.md's
 * table says which way, package by package. A dependency is what the class files reference (types
 * used without being named count too) plus what the sources name (imports and inline qualified
 * names, and so the constants that javac copies into the class files and leaves no trace of).
 */
class PackageDependenciesTest {
  private static final String ROOT = "io.runbook";
  private static final Path SOURCES = Path.of("src/main/java/io/runbook");
  private static final Path ARCHITECTURE = Path.of("../ARCHITECTURE.md");
  private static final Pattern QUALIFIED =
      Pattern.compile("\\bio\\.runbook\\.([a-z][a-z0-9_]*)\\.");
  private static final Pattern TABLE_ROW = Pattern.compile("^\\| `([a-z]+)` \\|.*\\| ([^|]*) \\|$");
  private static final Pattern NAME = Pattern.compile("`([a-z]+)`");

  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages(ROOT);

  @Test
  void theCompiledPackagesHaveNoCycles() {
    assertThat(CLASSES.size()).as("main classes found on the class path").isGreaterThan(100);
    slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(CLASSES);
  }

  @Test
  void thePackagesHaveNoCyclesCountingWhatTheSourcesName() throws IOException {
    assertThat(cycle(dependencies())).isEmpty();
  }

  @Test
  void theRootPackageDependsOnNoPackageBelowIt() throws IOException {
    assertThat(dependencies().getOrDefault("", Set.of())).isEmpty();
  }

  @Test
  void architectureMdListsWhatEachPackageDependsOn() throws IOException {
    Map<String, Set<String>> actual = dependencies();
    actual.remove("");
    assertThat(table())
        .as("ARCHITECTURE.md's package table (depends on) against the code")
        .isEqualTo(actual);
  }

  @Test
  void aCycleIsFoundAndNamed() {
    Map<String, Set<String>> g =
        Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
    assertThat(cycle(g)).containsExactly("a", "b", "c", "a");
    assertThat(cycle(Map.of("a", Set.of("b"), "b", Set.of()))).isEmpty();
  }

  @Test
  void theSourcesNameInlineQualifiedNamesButNotInCommentsOrStrings() {
    String src =
        """
        package io.runbook.yaml;
        import io.runbook.ErrorCode;
        // io.runbook.cli.Main in a comment
        /** {@link io.runbook.report.Html} */
        class A { String s = "io.runbook.lock.HostLock \\" io.runbook.lock.X"; char c = '"';
          boolean t = io.runbook.template.Templates.isTemplate(s); }
        """;
    assertThat(named(src))
        .as("its own package and ErrorCode (in io.runbook itself) are no package below")
        .containsExactly("template");
  }

  /**
   * Package (below io.runbook; "" for io.runbook itself) → the packages below io.runbook it depends
   * on.
   */
  private static Map<String, Set<String>> dependencies() throws IOException {
    Map<String, Set<String>> g = new TreeMap<>();
    for (JavaClass c : CLASSES) {
      String from = below(c.getPackageName());
      g.computeIfAbsent(from, k -> new TreeSet<>());
      for (Dependency d : c.getDirectDependenciesFromSelf()) {
        String to = d.getTargetClass().getPackageName();
        if (to.startsWith(ROOT + ".")) add(g, from, below(to));
      }
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(SOURCES)) {
      files = s.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(files).as("sources under " + SOURCES.toAbsolutePath()).hasSizeGreaterThan(100);
    for (Path f : files) {
      String from =
          below(
              ROOT
                  + (f.getParent().equals(SOURCES)
                      ? ""
                      : "." + SOURCES.relativize(f.getParent()).toString().replace('/', '.')));
      g.computeIfAbsent(from, k -> new TreeSet<>());
      for (String to : named(Files.readString(f, StandardCharsets.UTF_8))) add(g, from, to);
    }
    return g;
  }

  private static void add(Map<String, Set<String>> g, String from, String to) {
    if (!to.isEmpty() && !to.equals(from)) g.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
  }

  /** "io.runbook.step" → "step"; "io.runbook" → "". */
  private static String below(String packageName) {
    if (packageName.equals(ROOT)) return "";
    String rest = packageName.substring(ROOT.length() + 1);
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }

  /** The packages below io.runbook that a source names in code, comments and literals left out. */
  static Set<String> named(String source) {
    Set<String> out = new TreeSet<>();
    Matcher m = QUALIFIED.matcher(code(source));
    while (m.find()) out.add(m.group(1));
    return out;
  }

  /** The source with its comments and string, text-block and character literals blanked. */
  private static String code(String s) {
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (s.startsWith("//", i)) {
        i = s.indexOf('\n', i) < 0 ? s.length() : s.indexOf('\n', i);
      } else if (s.startsWith("/*", i)) {
        int end = s.indexOf("*/", i + 2);
        i = end < 0 ? s.length() : end + 2;
        out.append(' ');
      } else if (s.startsWith("\"\"\"", i)) {
        int end = s.indexOf("\"\"\"", i + 3);
        while (end > 0 && s.charAt(end - 1) == '\\') end = s.indexOf("\"\"\"", end + 1);
        i = end < 0 ? s.length() : end + 3;
        out.append("\"\"");
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) j += s.charAt(j) == '\\' ? 2 : 1;
        i = j + 1;
        out.append(c).append(c);
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** One cycle as a path that ends where it starts, or empty when there is none. */
  static List<String> cycle(Map<String, Set<String>> g) {
    Set<String> done = new HashSet<>();
    for (String start : new TreeSet<>(g.keySet())) {
      List<String> found = cycleFrom(start, g, new ArrayDeque<>(), done);
      if (!found.isEmpty()) return found;
    }
    return List.of();
  }

  private static List<String> cycleFrom(
      String node, Map<String, Set<String>> g, Deque<String> path, Set<String> done) {
    if (path.contains(node)) {
      List<String> onPath = new ArrayList<>(path);
      List<String> cycle = new ArrayList<>(onPath.subList(onPath.indexOf(node), onPath.size()));
      cycle.add(node);
      return cycle;
    }
    if (done.contains(node)) return List.of();
    path.addLast(node);
    for (String next : new TreeSet<>(g.getOrDefault(node, Set.of()))) {
      List<String> found = cycleFrom(next, g, path, done);
      if (!found.isEmpty()) return found;
    }
    path.removeLast();
    done.add(node);
    return List.of();
  }

  /**
   * ARCHITECTURE.md's package table: each row's package → the packages its "depends on" cell names.
   */
  private static Map<String, Set<String>> table() throws IOException {
    Map<String, Set<String>> t = new TreeMap<>();
    for (String line : Files.readAllLines(ARCHITECTURE, StandardCharsets.UTF_8)) {
      Matcher row = TABLE_ROW.matcher(line);
      if (!row.matches()) continue;
      Set<String> deps = new TreeSet<>();
      Matcher name = NAME.matcher(row.group(2));
      while (name.find()) deps.add(name.group(1));
      t.put(row.group(1), deps);
    }
    return t;
  }
}
