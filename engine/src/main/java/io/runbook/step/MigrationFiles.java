package io.runbook.step;

import io.runbook.result.StepResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The migrations of a {@code migrate} step, read on the controller: the {@code *.sql} files of a
 * directory in name order, or a list of files in the order given. A migration's name is its file
 * name, which is what the tracking table records.
 */
final class MigrationFiles {
  // migrate wraps each migration in a transaction; one of its own would commit half of it early.
  private static final Pattern OWN_TRANSACTION =
      Pattern.compile(
          "(?im)^\\s*(BEGIN(\\s+(TRANSACTION|WORK|DEFERRED|IMMEDIATE|EXCLUSIVE))?|COMMIT(\\s+(TRANSACTION|WORK))?|START\\s+TRANSACTION)\\s*;");

  private MigrationFiles() {}

  record Migration(String name, String sql) {}

  record Loaded(List<Migration> migrations, StepResult failure) {}

  static Loaded load(StepContext ctx, String dir, List<String> files) {
    return load(ctx.baseDir(), dir, files);
  }

  static Loaded load(Path baseDir, String dir, List<String> files) {
    List<String> sources = new ArrayList<>();
    if (dir != null) {
      Path d = baseDir.resolve(dir);
      if (!Files.isDirectory(d)) return failed("migrations dir not found on the controller: " + d);
      try (Stream<Path> list = Files.list(d)) {
        list.filter(p -> p.getFileName().toString().endsWith(".sql") && Files.isRegularFile(p))
            .map(p -> p.getFileName().toString())
            .sorted()
            .forEach(n -> sources.add(dir + "/" + n));
      } catch (IOException e) {
        return failed("cannot list " + d + ": " + e.getMessage());
      }
      if (sources.isEmpty()) return failed("no *.sql files in " + d);
    } else {
      sources.addAll(files);
    }
    List<Migration> migrations = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String src : sources) {
      LocalSource.Loaded f = LocalSource.load(baseDir, "files", src);
      if (f.failure() != null) return new Loaded(null, f.failure());
      String name = Path.of(src).getFileName().toString();
      if (!names.add(name))
        return failed("two migrations are named " + name + "; names must be unique");
      String sql = new String(f.bytes(), StandardCharsets.UTF_8);
      if (OWN_TRANSACTION.matcher(sql).find()) {
        return failed(
            name
                + " has its own BEGIN/COMMIT; migrate runs every migration in a transaction of"
                + " its own, so remove them from the file");
      }
      migrations.add(new Migration(name, sql));
    }
    return new Loaded(List.copyOf(migrations), null);
  }

  /**
   * Whether the table records {@code name}, or the name without {@code .sql} as the seed guide
   * writes it.
   */
  static boolean recorded(Collection<String> versions, String name) {
    return versions.contains(name) || versions.contains(name.replaceFirst("\\.sql$", ""));
  }

  /**
   * The migration a {@code mark_applied} entry means: its file name, with or without {@code .sql}.
   */
  static Optional<String> resolve(List<Migration> all, String name) {
    return all.stream()
        .map(Migration::name)
        .filter(n -> n.equals(name) || n.equals(name + ".sql"))
        .findFirst();
  }

  private static Loaded failed(String message) {
    return new Loaded(null, StepResult.failed(message));
  }
}
