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
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads YAML with snakeyaml-engine's composer (not its constructor) so that every node keeps its
 * position. Problems (syntax errors, duplicate keys, non-string keys) are added to a {@link Problems}
 * with {@code file:line:col}; the caller decides when to report them.
 */
public final class YamlLoader {
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
    LoadSettings settings = LoadSettings.builder().setLabel(displayName).setAllowDuplicateKeys(true).build();
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
    Object root = node == null ? null : convert(node, "", displayName, values, keys, problems);
    return Optional.of(new YamlDocument(path, displayName, root, values, keys));
  }

  private static Object convert(Node node, String pointer, String file, Map<String, Location> values,
      Map<String, Location> keys, Problems problems) {
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
        out.put(key, convert(t.getValueNode(), child, file, values, keys, problems));
      }
      return out;
    }
    if (node instanceof SequenceNode s) {
      List<Object> out = new ArrayList<>();
      int i = 0;
      for (Node item : s.getValue()) {
        out.add(convert(item, YamlDocument.child(pointer, i++), file, values, keys, problems));
      }
      return out;
    }
    return scalar((ScalarNode) node);
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
