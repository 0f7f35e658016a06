package io.runbook.secret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.runbook.event.Event;
import io.runbook.event.EventListener;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Replaces every secret value by {@value #MASK} wherever it occurs: inside rendered command lines,
 * step names, messages, captured output and nested values. One redactor sits in front of every
 * listener of a run (journal, {@code --json}, console), and before {@code plan} output and reports.
 *
 * <p>Events and results are records; a record is rebuilt through its canonical constructor with its
 * text redacted, so a field added to an event later is covered without touching this class. A
 * step's private undo state (data keys starting with {@code _}) is left whole: it goes only to the
 * 0600 undo file, and the undo needs the real bytes.
 */
public final class Redactor {
  public static final String MASK = "***";
  private static final Redactor NONE = new Redactor(List.of());

  private final Set<String> values;
  private final Pattern pattern;

  Redactor(Collection<String> secretValues) {
    // longest first: the alternation takes the first that matches, so a value never leaves a longer
    // one's tail
    List<String> sorted =
        secretValues.stream()
            .filter(v -> v.length() >= SecretValues.MIN_LENGTH)
            .distinct()
            .sorted(Comparator.comparingInt(String::length).reversed())
            .toList();
    this.values = Set.copyOf(sorted);
    this.pattern =
        sorted.isEmpty()
            ? null
            : Pattern.compile(sorted.stream().map(Pattern::quote).collect(Collectors.joining("|")));
  }

  /** A redactor that masks nothing. */
  public static Redactor none() {
    return NONE;
  }

  public boolean isEmpty() {
    return pattern == null;
  }

  /** {@code sink}, seeing every event with its secrets masked. */
  public EventListener listener(EventListener sink) {
    return isEmpty() ? sink : event -> sink.on(event(event));
  }

  public Event event(Event event) {
    return value(event);
  }

  public String text(String s) {
    if (s == null || pattern == null) return s;
    Matcher m = pattern.matcher(s);
    return m.find() ? m.replaceAll(MASK) : s;
  }

  /**
   * {@code v} with every secret in its text masked: strings, maps, lists, JSON trees and records,
   * deeply.
   */
  @SuppressWarnings("unchecked")
  public <T> T value(T v) {
    return pattern == null ? v : (T) deep(v);
  }

  private Object deep(Object v) {
    if (v == null) return null;
    if (v instanceof String s) return text(s);
    if (v instanceof Number n) return values.contains(n.toString()) ? MASK : v;
    if (v instanceof Map<?, ?> m) return map(m);
    if (v instanceof List<?> l) return list(l);
    if (v instanceof JsonNode n) return json(n);
    if (v instanceof Record r) return record(r);
    return v; // enums, booleans, instants, paths: nothing to mask
  }

  private Object map(Map<?, ?> m) {
    Map<Object, Object> out = new LinkedHashMap<>();
    boolean changed = false;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      Object before = e.getValue();
      Object after = e.getKey() instanceof String k && k.startsWith("_") ? before : deep(before);
      changed |= after != before;
      out.put(e.getKey(), after);
    }
    return changed ? out : m;
  }

  private Object list(List<?> l) {
    List<Object> out = new ArrayList<>(l.size());
    boolean changed = false;
    for (Object before : l) {
      Object after = deep(before);
      changed |= after != before;
      out.add(after);
    }
    return changed ? out : l;
  }

  private JsonNode json(JsonNode n) {
    if (n.isTextual()) {
      String t = text(n.textValue());
      return t.equals(n.textValue()) ? n : TextNode.valueOf(t);
    }
    if (n.isNumber()) return values.contains(n.asText()) ? TextNode.valueOf(MASK) : n;
    if (n instanceof ObjectNode o) {
      ObjectNode copy = o.deepCopy();
      copy.fieldNames().forEachRemaining(f -> copy.set(f, json(copy.get(f))));
      return copy;
    }
    if (n instanceof ArrayNode a) {
      ArrayNode copy = a.deepCopy();
      for (int i = 0; i < copy.size(); i++) copy.set(i, json(copy.get(i)));
      return copy;
    }
    return n;
  }

  private Object record(Record r) {
    RecordComponent[] cs = r.getClass().getRecordComponents();
    Object[] args = new Object[cs.length];
    Class<?>[] types = new Class<?>[cs.length];
    boolean changed = false;
    try {
      for (int i = 0; i < cs.length; i++) {
        types[i] = cs[i].getType();
        var accessor = cs[i].getAccessor();
        accessor.setAccessible(true);
        Object before = accessor.invoke(r);
        Object after = deep(before);
        if (after != before && !types[i].isInstance(after)) {
          // a masked number cannot go back into a numeric field; numbers in records are counts, not
          // secrets
          if (!(before instanceof Number)) {
            throw new IllegalStateException(
                r.getClass().getName()
                    + "."
                    + cs[i].getName()
                    + " is a "
                    + types[i].getName()
                    + ": its masked copy does not fit");
          }
          after = before;
        }
        changed |= after != before;
        args[i] = after;
      }
      if (!changed) return r;
      Constructor<?> c = r.getClass().getDeclaredConstructor(types);
      c.setAccessible(true);
      return c.newInstance(args);
    } catch (ReflectiveOperationException e) {
      // never let an unmasked value through: a record that cannot be rebuilt is a bug to see at
      // once
      throw new IllegalStateException(
          "cannot mask secrets in " + r.getClass().getName() + ": " + e, e);
    }
  }
}
