package io.runbook.yaml;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.resolver.JsonScalarResolver;
import org.snakeyaml.engine.v2.resolver.ScalarResolver;
import org.snakeyaml.engine.v2.scanner.StreamReader;
import org.snakeyaml.engine.v2.schema.Schema;

/**
 * Reads YAML with snakeyaml-engine's composer (not its constructor) so that every node keeps its
 * position. Problems (syntax errors, duplicate keys, non-string keys) are added to a {@link
 * Problems} with {@code file:line:col}; the caller decides when to report them.
 */
public final class YamlLoader {
  /**
   * How a YAML dialect reads scalars: the tag a plain scalar resolves to, and the value a scalar
   * node stands for. Runbooks use YAML 1.2 ({@link #DEFAULT}); Ansible's inventories are read as
   * YAML 1.1, with its own tags, by the inventory package.
   */
  public interface Scalars {
    ScalarResolver resolver();

    /** The value of a scalar node; a problem with it (a bad tag, say) is added at {@code at}. */
    Object value(ScalarNode node, Location at, Problems problems);
  }

  /** snakeyaml-engine's default (YAML 1.2's JSON schema): what runbooks and their own files use. */
  public static final Scalars DEFAULT =
      new Scalars() {
        private final ScalarResolver resolver = new JsonScalarResolver();

        @Override
        public ScalarResolver resolver() {
          return resolver;
        }

        @Override
        public Object value(ScalarNode node, Location at, Problems problems) {
          return scalar(node);
        }
      };

  private YamlLoader() {}

  /**
   * Deeper nesting is refused: runbooks and inventories need a dozen levels; recursion needs a
   * bound.
   */
  public static final int MAX_DEPTH = 100;

  /**
   * Aliases to collections in one document (an inventory may share a vars block among many hosts).
   */
  public static final int MAX_ALIASES = 1000;

  /** Nodes that aliases may add to a document when expanded: stops "billion laughs". */
  public static final int MAX_EXPANSION = 100_000;

  /**
   * Loads one file; a missing, unreadable, oversized or non-regular file is a problem at the file
   * itself.
   */
  public static Optional<YamlDocument> load(Path path, String displayName, Problems problems) {
    return InputFiles.read(path, displayName, problems)
        .flatMap(text -> parse(path, displayName, text, problems));
  }

  public static Optional<YamlDocument> parse(
      Path path, String displayName, String text, Problems problems) {
    return parse(path, displayName, text, problems, DEFAULT);
  }

  /** Parses {@code text} reading its scalars as {@code scalars} says. */
  public static Optional<YamlDocument> parse(
      Path path, String displayName, String text, Problems problems, Scalars scalars) {
    if (text.length() > InputFiles.MAX_BYTES) {
      problems.add(
          Location.of(displayName),
          "document is " + text.length() + " characters; the limit is " + InputFiles.MAX_BYTES);
      return Optional.empty();
    }
    // The whole text in one buffer: with the default 1 KiB buffer, snakeyaml-engine's StreamReader
    // copies
    // the unread window at every refill, and a token as long as the line keeps all of it unread, so
    // a
    // long one-line value cost time quadratic in its length (49 s for 10 MB).
    LoadSettings settings =
        LoadSettings.builder()
            .setLabel(displayName)
            .setAllowDuplicateKeys(true)
            .setBufferSize(text.length() + 1)
            .setCodePointLimit(InputFiles.MAX_BYTES + 1)
            .setMaxAliasesForCollections(Integer.MAX_VALUE)
            .setSchema(
                new Schema() {
                  @Override
                  public ScalarResolver getScalarResolver() {
                    return scalars.resolver();
                  }

                  @Override
                  public Map<Tag, ConstructNode> getSchemaTagConstructors() {
                    return Map.of(); // values are made by convert(), not by a constructor
                  }
                })
            .build();
    Node node;
    BoundedParser parser;
    try (Reader reader = new StringReader(text)) {
      parser = new BoundedParser(new ParserImpl(settings, new StreamReader(settings, reader)));
      Composer composer = new Composer(settings, parser);
      node = composer.getSingleNode().orElse(null);
    } catch (BoundedParser.LimitExceeded e) {
      problems.add(
          e.mark == null ? Location.of(displayName) : at(displayName, e.mark),
          "YAML refused: "
              + e.getMessage()
              + " (runbook reads at most "
              + MAX_DEPTH
              + " levels of nesting and "
              + MAX_ALIASES
              + " aliases, none recursive)");
      return Optional.empty();
    } catch (MarkedYamlEngineException e) {
      // Report where the broken construct starts (an unclosed quote, say), not where the parser
      // gave up.
      Location problem =
          e.getProblemMark().map(m -> at(displayName, m)).orElse(Location.of(displayName));
      Optional<Location> context = e.getContextMark().map(m -> at(displayName, m));
      if (context.isPresent() && e.getContext() != null) {
        problems.add(
            context.get(),
            "invalid YAML: "
                + e.getContext()
                + " started here: "
                + e.getProblem()
                + " (line "
                + problem.line()
                + ", column "
                + problem.column()
                + ")");
      } else {
        problems.add(problem, "invalid YAML: " + e.getProblem());
      }
      return Optional.empty();
    } catch (ReaderException e) {
      // A control character (NUL, ESC, BEL...) YAML does not allow: say which, and where.
      problems.add(
          atCodePoint(displayName, text, e.getPosition()),
          String.format(
              "invalid YAML: control "
                  + "character U+%04X is not allowed in YAML; remove it (or write it as an escape such as \\x07 "
                  + "in a double-quoted string)",
              e.getCodePoint()));
      return Optional.empty();
    } catch (YamlEngineException | IOException e) {
      problems.add(Location.of(displayName), "invalid YAML: " + e.getMessage());
      return Optional.empty();
    }
    Map<String, Location> values = new HashMap<>();
    Map<String, Location> keys = new HashMap<>();
    Converter c =
        new Converter(displayName, values, keys, problems, scalars, parser.nodes() + MAX_EXPANSION);
    Object root;
    try {
      root = node == null ? null : c.convert(node, "", 0);
    } catch (BoundedParser.LimitExceeded e) {
      problems.add(
          e.mark == null ? Location.of(displayName) : at(displayName, e.mark),
          "YAML refused: " + e.getMessage());
      return Optional.empty();
    }
    return Optional.of(new YamlDocument(path, displayName, root, values, keys));
  }

  /**
   * Plain values from nodes. An alias shares its node, so the tree can be far larger (and deeper)
   * than the text: both are bounded here, where the expansion happens.
   */
  // used[0] is a counter shared by the nested converters
  @SuppressWarnings("ArrayRecordComponent")
  private record Converter(
      String file,
      Map<String, Location> values,
      Map<String, Location> keys,
      Problems problems,
      Scalars scalars,
      long budget,
      long[] used) {
    Converter(
        String file,
        Map<String, Location> values,
        Map<String, Location> keys,
        Problems problems,
        Scalars scalars,
        long budget) {
      this(file, values, keys, problems, scalars, budget, new long[1]);
    }

    private Object convert(Node node, String pointer, int depth) {
      Location loc = node.getStartMark().map(m -> at(file, m)).orElse(Location.of(file));
      if (depth >= MAX_DEPTH && !(node instanceof ScalarNode)) {
        throw new BoundedParser.LimitExceeded(
            node.getStartMark().orElse(null),
            "nesting deeper than " + MAX_DEPTH + " levels once its aliases are expanded");
      }
      if (++used[0] > budget) {
        throw new BoundedParser.LimitExceeded(
            node.getStartMark().orElse(null),
            "aliases expand to more than "
                + MAX_EXPANSION
                + " extra values (a \"billion laughs\" document?)");
      }
      values.put(pointer, loc);
      if (node instanceof MappingNode m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
          Node k = t.getKeyNode();
          Location kloc = k.getStartMark().map(mk -> at(file, mk)).orElse(loc);
          if (!(k instanceof ScalarNode ks)) {
            problems.add(kloc, "mapping keys must be plain strings");
            continue;
          }
          String key = ks.getValue();
          String child = YamlDocument.child(pointer, key);
          if (out.containsKey(key)) {
            problems.add(
                kloc, "duplicate key '" + key + "' (first at line " + keys.get(child).line() + ")");
            continue;
          }
          keys.put(child, kloc);
          out.put(key, convert(t.getValueNode(), child, depth + 1));
        }
        return out;
      }
      if (node instanceof SequenceNode s) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        for (Node item : s.getValue()) {
          out.add(convert(item, YamlDocument.child(pointer, i++), depth + 1));
        }
        return out;
      }
      return scalars.value((ScalarNode) node, loc, problems);
    }
  }

  private static Object scalar(ScalarNode n) {
    String v = n.getValue();
    Tag tag = n.getTag();
    if (Tag.NULL.equals(tag)) return null;
    if (Tag.BOOL.equals(tag)) return Boolean.valueOf(v.toLowerCase(Locale.ROOT));
    if (Tag.INT.equals(tag)) {
      try {
        if (v.startsWith("0x")) return Long.parseLong(v.substring(2), 16);
        if (v.startsWith("0o")) return Long.parseLong(v.substring(2), 8);
        BigInteger b = new BigInteger(v);
        return b.bitLength() < 64 ? (Object) b.longValue() : b;
      } catch (NumberFormatException e) {
        return v;
      }
    }
    if (Tag.FLOAT.equals(tag)) {
      String f = v.toLowerCase(Locale.ROOT);
      if (f.endsWith(".inf"))
        return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      if (f.equals(".nan")) return Double.NaN;
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        return v;
      }
    }
    return v;
  }

  private static Location atCodePoint(String file, String text, int codePoints) {
    int line = 1;
    int column = 1;
    int i = 0;
    for (int n = 0; n < codePoints && i < text.length(); n++) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      if (c == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return new Location(file, line, column);
  }

  private static Location at(String file, Mark m) {
    return new Location(file, m.getLine() + 1, m.getColumn() + 1);
  }
}
