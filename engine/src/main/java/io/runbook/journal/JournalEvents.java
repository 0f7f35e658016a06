package io.runbook.journal;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.event.Event;
import io.runbook.event.RunResumed;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a journal back into the {@link Event} records that wrote it: the one reader of journals.
 * Resume and rollback state, {@code history}/{@code show} and the report are folds over {@link
 * #events()}.
 *
 * <p>A journal may hold lines that are not events: the last line of a controller killed in the
 * middle of writing it, or bytes damaged on disk. Each is a {@link Damage} with its line number,
 * what it seems to be about (event type and host, when they can be made out) and whether it is
 * <em>torn</em> (the last line, or the line right before a later controller's {@code run_resumed}:
 * a write cut short by a dying controller, whose step the readers already treat as in flight) or
 * damage in the middle, which may hide an outcome.
 *
 * @param events the events in the order they were written, with their line numbers
 * @param damage the lines that are not events
 */
public record JournalEvents(Path file, List<Line> events, List<Damage> damage) {
  private static final Pattern HOST = Pattern.compile("\"host\"\\s*:\\s*\"([^\"\\\\]{1,200})\"");
  private static final Pattern TYPE = Pattern.compile("\"event\"\\s*:\\s*\"([a-z_]{1,40})\"");
  private static final Map<String, Class<? extends Event>> TYPES = new HashMap<>();

  static {
    for (Class<?> c : Event.class.getPermittedSubclasses()) {
      @SuppressWarnings("unchecked")
      Class<? extends Event> type = (Class<? extends Event>) c;
      TYPES.put(
          c.getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT), type);
    }
  }

  /**
   * The event record a journal's {@code event} name stands for, or null when this version writes
   * none such.
   */
  public static Class<? extends Event> type(String name) {
    return TYPES.get(name);
  }

  public JournalEvents {
    events = List.copyOf(events);
    damage = List.copyOf(damage);
  }

  /** One event and the journal line it came from (1-based). */
  public record Line(int number, Event event) {}

  /**
   * A journal line that is not an event.
   *
   * @param eventType the event type the line names, or null when it cannot be made out
   * @param host the host the line names, or null
   * @param torn a write cut short by a dying controller (see the class comment), not damage in the
   *     middle
   */
  public record Damage(int line, String excerpt, String eventType, String host, boolean torn) {
    /** "line 7 (step_finished of h2)" */
    public String describe() {
      String about =
          eventType == null && host == null
              ? ""
              : " ("
                  + (eventType == null ? "an event" : eventType)
                  + (host == null ? "" : " of " + host)
                  + ")";
      return "line " + line + about;
    }
  }

  /** The events of the journal at {@code file}. */
  public static JournalEvents read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL, "cannot read the journal " + file + ": " + e.getMessage(), e);
    }
    return parse(file, bytes);
  }

  static JournalEvents parse(Path file, byte[] bytes) {
    List<Line> events = new ArrayList<>();
    List<Damage> damage = new ArrayList<>();
    int lineNo = 0;
    int start = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') end++;
      lineNo++;
      int from = start;
      boolean last = end >= bytes.length - 1;
      start = end + 1;
      String text = decode(bytes, from, end);
      if (text != null && text.isBlank()) continue;
      if (text != null && fromAnotherVersion(text)) continue;
      Event event = text == null ? null : event(text);
      if (event == null) {
        // Malformed UTF-8 is shown with replacement characters: enough to name the host it was
        // about.
        damage.add(
            damaged(
                lineNo,
                text != null ? text : new String(bytes, from, end - from, StandardCharsets.UTF_8),
                last));
        continue;
      }
      if (event instanceof RunResumed && !damage.isEmpty()) {
        Damage d = damage.get(damage.size() - 1);
        if (d.line() == lineNo - 1 && !d.torn()) {
          damage.set(
              damage.size() - 1, new Damage(d.line(), d.excerpt(), d.eventType(), d.host(), true));
        }
      }
      events.add(new Line(lineNo, event));
    }
    return new JournalEvents(file, events, damage);
  }

  private static Damage damaged(int lineNo, String text, boolean last) {
    Matcher h = HOST.matcher(text);
    Matcher t = TYPE.matcher(text);
    String excerpt = text.length() > 120 ? text.substring(0, 117) + "..." : text;
    return new Damage(
        lineNo, excerpt, t.find() ? t.group(1) : null, h.find() ? h.group(1) : null, last);
  }

  /** The line as strict UTF-8, or null when it is not. */
  private static String decode(byte[] bytes, int from, int to) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, from, to - from))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * A whole JSON line naming an event type this version does not write ({@code lock_taken} of early
   * versions): not damage, since nothing of a run's outcome is lost, so it is passed over.
   */
  private static boolean fromAnotherVersion(String text) {
    try {
      JsonNode node = EventJson.MAPPER.readTree(text);
      return node != null
          && node.isObject()
          && node.path("event").isTextual()
          && !TYPES.containsKey(node.path("event").asText());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** One line as the event it records, or null when it is not one this version knows whole. */
  private static Event event(String text) {
    try {
      JsonNode node = EventJson.MAPPER.readTree(text);
      if (node == null || !node.isObject()) return null;
      Class<? extends Event> type = TYPES.get(node.path("event").asText(""));
      return type == null ? null : EventJson.MAPPER.treeToValue(node, type);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The events of one type, in order. */
  public <E extends Event> List<E> all(Class<E> type) {
    return events.stream().map(Line::event).filter(type::isInstance).map(type::cast).toList();
  }

  /**
   * Damage in the middle of the journal: lines that may have held an outcome no reader can know
   * now.
   */
  public List<Damage> hidden() {
    return damage.stream().filter(d -> !d.torn()).toList();
  }
}
