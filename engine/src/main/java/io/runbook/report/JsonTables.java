package io.runbook.report;

import static io.runbook.report.Html.esc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Any JSON document as nested HTML tables, for files whose shape this page does not know (a
 * rehearsal's {@code rehearsal.json}): an object is a table of its fields, an array of objects a
 * table with a column per field, an array of short plain values one comma-separated cell, of longer
 * ones a list.
 */
final class JsonTables {
  /** Deeper than this, a value is shown as its JSON text. */
  static final int MAX_DEPTH = 6;

  private JsonTables() {}

  static String render(JsonNode node) {
    StringBuilder out = new StringBuilder();
    value(out, node, 0);
    return out.append('\n').toString();
  }

  private static void value(StringBuilder out, JsonNode n, int depth) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      out.append("<span class=\"dim\">—</span>");
    } else if (depth >= MAX_DEPTH && n.isContainerNode()) {
      out.append("<code>").append(esc(n.toString())).append("</code>");
    } else if (n.isObject()) {
      object(out, n, depth);
    } else if (n.isArray()) {
      array(out, n, depth);
    } else if (n.isTextual() && n.asText().contains("\n")) {
      out.append("<pre>").append(esc(n.asText())).append("</pre>");
    } else {
      out.append(esc(n.asText()));
    }
  }

  private static void object(StringBuilder out, JsonNode n, int depth) {
    if (n.isEmpty()) {
      out.append("<span class=\"dim\">{}</span>");
      return;
    }
    out.append("<table class=\"kv\"><tbody>");
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      out.append("<tr><th>").append(esc(f.getKey())).append("</th><td>");
      value(out, f.getValue(), depth + 1);
      out.append("</td></tr>");
    }
    out.append("</tbody></table>");
  }

  private static void array(StringBuilder out, JsonNode n, int depth) {
    if (n.isEmpty()) {
      out.append("<span class=\"dim\">none</span>");
      return;
    }
    boolean allObjects = true, allPlain = true;
    for (JsonNode e : n) {
      allObjects &= e.isObject();
      allPlain &= e.isValueNode() || e.isNull();
    }
    if (allPlain) {
      List<String> parts = new ArrayList<>();
      n.forEach(e -> parts.add(e.isNull() ? "—" : e.asText()));
      if (parts.stream().allMatch(p -> p.length() <= 30 && !p.contains(","))) {
        out.append(esc(String.join(", ", parts)));
      } else { // sentences read better one a line
        out.append("<ul class=\"jl\">");
        parts.forEach(p -> out.append("<li>").append(esc(p)).append("</li>"));
        out.append("</ul>");
      }
      return;
    }
    if (!allObjects) {
      out.append("<ol class=\"jl\">");
      for (JsonNode e : n) {
        out.append("<li>");
        value(out, e, depth + 1);
        out.append("</li>");
      }
      out.append("</ol>");
      return;
    }
    Set<String> columns = new LinkedHashSet<>();
    n.forEach(e -> e.fieldNames().forEachRemaining(columns::add));
    out.append("<table class=\"grid\"><thead><tr>");
    columns.forEach(c -> out.append("<th>").append(esc(c)).append("</th>"));
    out.append("</tr></thead><tbody>");
    for (JsonNode e : n) {
      out.append("<tr>");
      for (String c : columns) {
        out.append("<td>");
        value(out, e.get(c), depth + 1);
        out.append("</td>");
      }
      out.append("</tr>");
    }
    out.append("</tbody></table>");
  }
}
