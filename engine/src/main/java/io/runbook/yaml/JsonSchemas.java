package io.runbook.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * JSON Schema (draft 2020-12, networknt) validation of YAML documents, with every violation mapped
 * back to the {@code file:line:col} of the offending key or value and phrased for a person.
 */
public final class JsonSchemas {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private static final Map<String, Loaded> CACHE = new ConcurrentHashMap<>();

  private JsonSchemas() {}

  /** A compiled schema and its JSON, kept to look up property names for "did you mean" hints. */
  public record Loaded(String resource, Schema schema, JsonNode json) {}

  /** Loads (once) a schema shipped on the classpath. */
  public static Loaded load(String resource) {
    return CACHE.computeIfAbsent(
        resource,
        r -> {
          try (InputStream in = JsonSchemas.class.getResourceAsStream(r)) {
            if (in == null) throw new IllegalStateException("schema resource missing: " + r);
            JsonNode json = MAPPER.readTree(in);
            return new Loaded(r, REGISTRY.getSchema(json), json);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** The schema's JSON text, for {@code runbook schema}. */
  public static JsonNode json(String resource) {
    return load(resource).json();
  }

  /**
   * Validates {@code value}, found at {@code basePointer} in {@code doc}, and adds one problem per
   * violation. {@code what} names the thing validated in messages (e.g. "step 'Backup' (shell)").
   *
   * @param deferred text checked later, not as written: a violation at such a text is not reported
   *     (the caller passes its template test, a templated value being checked once rendered; this
   *     package knows no template syntax, so that {@code template} may depend on it and not the
   *     reverse)
   * @return true when the value is valid
   */
  public static boolean validate(
      Loaded schema,
      Object value,
      YamlDocument doc,
      String basePointer,
      String what,
      Problems problems,
      Predicate<String> deferred) {
    JsonNode instance = MAPPER.valueToTree(value);
    List<Error> errors = schema.schema().validate(instance);
    int reported = 0;
    // A misspelt key yields "unknown key 'hostz'" and "missing 'hosts'"; the first says it all.
    Set<String> suggested = new HashSet<>();
    for (Error e : errors) {
      if ("additionalProperties".equals(e.getKeyword()) && e.getProperty() != null) {
        String hint = Suggestions.didYouMean(e.getProperty(), knownProperties(schema.json(), e));
        if (!hint.isEmpty())
          suggested.add(
              pointer(e.getInstanceLocation()) + "|" + hint.replaceAll(".*'(.*)'.*", "$1"));
      }
    }
    for (Error e : errors) {
      if ("required".equals(e.getKeyword())
          && suggested.contains(pointer(e.getInstanceLocation()) + "|" + e.getProperty())) {
        continue;
      }
      // A templated value ("[=port]") is checked once it is rendered for a host, not as written.
      JsonNode bad = e.getInstanceNode();
      if (bad != null && bad.isTextual() && deferred.test(bad.asText())) continue;
      reported++;
      String rel = pointer(e.getInstanceLocation());
      String at = basePointer + rel;
      String prefix = what == null || what.isEmpty() ? "" : what + ": ";
      String keyword = e.getKeyword() == null ? "" : e.getKeyword();
      switch (keyword) {
        case "additionalProperties", "unevaluatedProperties" -> {
          String key = e.getProperty();
          List<String> known = knownProperties(schema.json(), e);
          String where = rel.isEmpty() ? "" : " in '" + lastSegment(rel) + "'";
          problems.add(
              doc.keyLocation(YamlDocument.child(at, key)),
              prefix
                  + "unknown key '"
                  + key
                  + "'"
                  + where
                  + Suggestions.didYouMean(key, known)
                  + (known.isEmpty() ? "" : "; expected one of: " + String.join(", ", known)));
        }
        case "required" ->
            problems.add(
                doc.location(at),
                prefix
                    + "missing required key '"
                    + e.getProperty()
                    + "'"
                    + (rel.isEmpty() ? "" : " in '" + lastSegment(rel) + "'"));
        case "pattern" ->
            problems.add(
                doc.location(at),
                prefix
                    + (rel.isEmpty() ? "" : "'" + lastSegment(rel) + "' ")
                    + describeValue(e.getInstanceNode())
                    + " is not valid"
                    + description(schema.json(), e));
        default -> problems.add(doc.location(at), prefix + humanMessage(e, rel));
      }
    }
    return reported == 0;
  }

  private static String humanMessage(Error e, String rel) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    // networknt prefixes the instance path ("$.a.b: ..."); we already say where, by line and
    // column.
    int colon = m.indexOf(": ");
    if (m.startsWith("$") && colon > 0) m = m.substring(colon + 2);
    String name = rel.isEmpty() ? "" : "'" + lastSegment(rel) + "' ";
    return name + m;
  }

  private static String describeValue(JsonNode n) {
    return n == null ? "" : n.toString();
  }

  /** ": " + the description of the schema node that holds the failing keyword, if it has one. */
  private static String description(JsonNode root, Error e) {
    String fragment =
        e.getSchemaLocation() == null || e.getSchemaLocation().getFragment() == null
            ? null
            : e.getSchemaLocation().getFragment().toString();
    if (fragment == null) return "";
    if (fragment.startsWith("#")) fragment = fragment.substring(1);
    int cut = fragment.lastIndexOf('/');
    if (cut < 0) return "";
    JsonNode d = root.at(fragment.substring(0, cut)).path("description");
    return d.isTextual() ? ": " + d.asText() : "";
  }

  private static String lastSegment(String pointer) {
    String s = pointer.substring(pointer.lastIndexOf('/') + 1);
    return s.replace("~1", "/").replace("~0", "~");
  }

  private static String pointer(NodePath path) {
    StringBuilder sb = new StringBuilder();
    if (path == null) return "";
    for (int i = 0; i < path.getNameCount(); i++) {
      Object el = path.getElement(i);
      sb.append('/').append(String.valueOf(el).replace("~", "~0").replace("/", "~1"));
    }
    return sb.toString();
  }

  /**
   * The property names allowed where an unknown key was found, from the schema node that rejected
   * it.
   */
  private static List<String> knownProperties(JsonNode root, Error e) {
    List<String> names = new ArrayList<>();
    String fragment =
        e.getSchemaLocation() == null || e.getSchemaLocation().getFragment() == null
            ? null
            : e.getSchemaLocation().getFragment().toString();
    if (fragment == null) return names;
    if (fragment.startsWith("#")) fragment = fragment.substring(1);
    int cut = fragment.lastIndexOf('/');
    if (cut < 0) return names;
    JsonNode parent = root.at(fragment.substring(0, cut));
    JsonNode props = parent.path("properties");
    for (Iterator<String> it = props.fieldNames(); it.hasNext(); ) names.add(it.next());
    return names;
  }
}
