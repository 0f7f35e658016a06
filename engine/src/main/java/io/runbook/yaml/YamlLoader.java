package io.runbook.yaml;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.resolver.JsonScalarResolver;
import org.snakeyaml.engine.v2.schema.Schema;
import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.resolver.ScalarResolver;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads YAML with snakeyaml-engine's composer (not its constructor) so that every node keeps its
 * position. Problems (syntax errors, duplicate keys, non-string keys) are added to a {@link Problems}
 * with {@code file:line:col}; the caller decides when to report them.
 */
public final class YamlLoader {
  /**
   * How a YAML dialect reads scalars: the tag a plain scalar resolves to, and the value a scalar node
   * stands for. Runbooks use YAML 1.2 ({@link #DEFAULT}); Ansible's inventories are read as YAML 1.1, with
   * its own tags, by the inventory package.
   */
  public interface Scalars {
    ScalarResolver resolver();

    /** The value of a scalar node; a problem with it (a bad tag, say) is added at {@code at}. */
    Object value(ScalarNode node, Location at, Problems problems);
  }

  /** snakeyaml-engine's default (YAML 1.2's JSON schema): what runbooks and their own files use. */
  public static final Scalars DEFAULT = new Scalars() {
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

  /** Loads one file; a missing or unreadable file is a problem at the file itself. */
  public static Optional<YamlDocument> load(Path path, String displayName, Problems problems) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      problems.add(Location.of(displayName), "file not found");
      return Optional.empty();
    } catch (IOException e) {
      problems.add(Location.of(displayName), "cannot read file: " + e.getMessage());
      return Optional.empty();
    }
    return parse(path, displayName, text, problems);
  }

  public static Optional<YamlDocument> parse(Path path, String displayName, String text, Problems problems) {
    return parse(path, displayName, text, problems, DEFAULT);
  }

  /** Parses {@code text} reading its scalars as {@code scalars} says. */
  public static Optional<YamlDocument> parse(Path path, String displayName, String text, Problems problems,
      Scalars scalars) {
    LoadSettings settings = LoadSettings.builder().setLabel(displayName).setAllowDuplicateKeys(true)
        .setSchema(new Schema() {
          @Override
          public ScalarResolver getScalarResolver() {
            return scalars.resolver();
          }

          @Override
          public Map<Tag, ConstructNode> getSchemaTagConstructors() {
            return Map.of(); // values are made by convert(), not by a constructor
          }
        }).build();
    Node node;
    try (Reader reader = new StringReader(text)) {
      Composer composer = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, reader)));
      node = composer.getSingleNode().orElse(null);
    } catch (MarkedYamlEngineException e) {
      // Report where the broken construct starts (an unclosed quote, say), not where the parser gave up.
      Location problem = e.getProblemMark().map(m -> at(displayName, m)).orElse(Location.of(displayName));
      Optional<Location> context = e.getContextMark().map(m -> at(displayName, m));
      if (context.isPresent() && e.getContext() != null) {
        problems.add(context.get(), "invalid YAML: " + e.getContext() + " started here: " + e.getProblem()
            + " (line " + problem.line() + ", column " + problem.column() + ")");
      } else {
        problems.add(problem, "invalid YAML: " + e.getProblem());
      }
      return Optional.empty();
    } catch (YamlEngineException | IOException e) {
      problems.add(Location.of(displayName), "invalid YAML: " + e.getMessage());
      return Optional.empty();
    }
    Map<String, Location> values = new HashMap<>();
    Map<String, Location> keys = new HashMap<>();
    Object root = node == null ? null : convert(node, "", displayName, values, keys, problems, scalars);
    return Optional.of(new YamlDocument(path, displayName, root, values, keys));
  }

  private static Object convert(Node node, String pointer, String file, Map<String, Location> values,
      Map<String, Location> keys, Problems problems, Scalars scalars) {
    Location loc = node.getStartMark().map(m -> at(file, m)).orElse(Location.of(file));
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
          problems.add(kloc, "duplicate key '" + key + "' (first at line " + keys.get(child).line() + ")");
          continue;
        }
        keys.put(child, kloc);
        out.put(key, convert(t.getValueNode(), child, file, values, keys, problems, scalars));
      }
      return out;
    }
    if (node instanceof SequenceNode s) {
      List<Object> out = new ArrayList<>();
      int i = 0;
      for (Node item : s.getValue()) {
        out.add(convert(item, YamlDocument.child(pointer, i++), file, values, keys, problems, scalars));
      }
      return out;
    }
    return scalars.value((ScalarNode) node, loc, problems);
  }

  private static Object scalar(ScalarNode n) {
    String v = n.getValue();
    Tag tag = n.getTag();
    if (Tag.NULL.equals(tag)) return null;
    if (Tag.BOOL.equals(tag)) return Boolean.valueOf(v.toLowerCase());
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
      String f = v.toLowerCase();
      if (f.endsWith(".inf")) return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      if (f.equals(".nan")) return Double.NaN;
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        return v;
      }
    }
    return v;
  }

  private static Location at(String file, Mark m) {
    return new Location(file, m.getLine() + 1, m.getColumn() + 1);
  }
}
