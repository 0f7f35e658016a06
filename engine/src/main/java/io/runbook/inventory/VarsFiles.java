package io.runbook.inventory;

import io.runbook.yaml.InputFiles;
import io.runbook.yaml.Problems;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code group_vars/} and {@code host_vars/} beside an inventory or a runbook, found as Ansible's
 * {@code host_group_vars} plugin finds them: for a name, the first of {@code NAME} (a file, or a
 * directory whose files are all read, sorted, recursing into subdirectories), {@code NAME.yml},
 * {@code NAME.yaml} and {@code NAME.json}; in a directory, hidden files, files ending in {@code ~}
 * and files with other extensions are skipped. Files may be vault-encrypted; values may be {@code
 * !vault}.
 */
final class VarsFiles {
  static final List<String> EXTENSIONS = List.of("", ".yml", ".yaml", ".json");

  private final AnsibleYaml yaml;
  private final Function<Path, String> display;
  private final Problems problems;
  private final Map<Path, Map<String, Object>> cache = new HashMap<>();
  // Every host asks for every group's files: look each name up once (a fleet has few groups, many
  // hosts).
  private final Map<Path, Map<String, Object>> merged = new HashMap<>();

  VarsFiles(AnsibleYaml yaml, Function<Path, String> display, Problems problems) {
    this.yaml = yaml;
    this.display = display;
    this.problems = problems;
  }

  /** The variables {@code dir/subdir/name*} sets, merged in file order (later files win). */
  Map<String, Object> vars(Path dir, String subdir, String name) {
    if (name.contains("/")) return Map.of();
    return merged.computeIfAbsent(
        dir.resolve(subdir).resolve(name),
        k -> {
          Map<String, Object> out = new LinkedHashMap<>();
          for (Path f : files(dir.resolve(subdir), name))
            out.putAll(cache.computeIfAbsent(f, this::load));
          return out;
        });
  }

  private static List<Path> files(Path dir, String name) {
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(dir)) return found;
    for (String ext : EXTENSIONS) {
      Path p = dir.resolve(name + ext);
      if (Files.isDirectory(p)) {
        dirFiles(p, found);
        break;
      }
      if (Files.exists(p)) {
        found.add(p);
        break;
      }
    }
    return found;
  }

  private static void dirFiles(Path dir, List<Path> found) {
    List<Path> entries;
    try (Stream<Path> s = Files.list(dir)) {
      entries = s.sorted().toList();
    } catch (IOException e) {
      return;
    }
    for (Path p : entries) {
      String n = p.getFileName().toString();
      if (n.startsWith(".") || n.endsWith("~")) continue;
      int dot = n.lastIndexOf('.');
      String ext = dot <= 0 ? "" : n.substring(dot);
      if (Files.isDirectory(p) && ext.isEmpty()) dirFiles(p, found);
      else if (Files.isRegularFile(p) && EXTENSIONS.contains(ext)) found.add(p);
    }
  }

  private Map<String, Object> load(Path file) {
    String name = display.apply(file);
    Optional<String> read = InputFiles.read(file, name, problems);
    if (read.isEmpty()) return Map.of();
    String text = read.get();
    Problems found = new Problems();
    var doc = yaml.parse(file, name, text, found);
    problems.addAll(found);
    if (doc.isEmpty() || doc.get().root() == null) return Map.of(); // an empty file sets nothing
    if (!(doc.get().root() instanceof Map<?, ?> m)) {
      problems.add(
          doc.get().location(""), "a variables file must hold a mapping of names to values");
      return Map.of();
    }
    Map<String, Object> vars = new LinkedHashMap<>();
    m.forEach((k, v) -> vars.put(String.valueOf(k), v));
    return vars;
  }
}
