package io.runbook.yaml;

import java.util.ArrayList;
import java.util.List;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.parser.Parser;

/**
 * Stands between snakeyaml-engine's parser and its composer and stops a hostile document before the
 * composer's recursion (nesting) or our conversion (aliases) grows with it: snakeyaml-engine 2.9
 * bounds neither nesting depth nor an alias that refers to the collection it is inside of.
 */
final class BoundedParser implements Parser {
  /** Thrown at the event that crosses a limit; {@link YamlLoader} turns it into a problem there. */
  static final class LimitExceeded extends RuntimeException {
    final Mark mark;

    LimitExceeded(Mark mark, String message) {
      super(message, null, false, false);
      this.mark = mark;
    }
  }

  private final Parser parser;
  private int depth;
  private int aliases;
  private long nodes;

  /**
   * Anchors of the collections now open: an alias to one of them would make the value contain
   * itself.
   */
  private final List<Anchor> open = new ArrayList<>();

  BoundedParser(Parser parser) {
    this.parser = parser;
  }

  @Override
  public boolean checkEvent(Event.ID id) {
    return parser.checkEvent(id);
  }

  @Override
  public Event peekEvent() {
    return parser.peekEvent();
  }

  @Override
  public boolean hasNext() {
    return parser.hasNext();
  }

  @Override
  public Event next() {
    Event e = parser.next();
    switch (e.getEventId()) {
      case Scalar -> nodes++;
      case MappingStart, SequenceStart -> {
        nodes++;
        if (++depth > YamlLoader.MAX_DEPTH) {
          throw new LimitExceeded(
              mark(e), "nesting deeper than " + YamlLoader.MAX_DEPTH + " levels");
        }
        open.add(((NodeEvent) e).getAnchor().orElse(null));
      }
      case MappingEnd, SequenceEnd -> {
        depth--;
        open.remove(open.size() - 1);
      }
      case Alias -> {
        Anchor a = ((AliasEvent) e).getAlias();
        if (open.contains(a)) {
          throw new LimitExceeded(
              mark(e),
              "alias *"
                  + a.getValue()
                  + " refers to a value that contains it "
                  + "(a recursive alias)");
        }
        if (++aliases > YamlLoader.MAX_ALIASES) {
          throw new LimitExceeded(
              mark(e), "more than " + YamlLoader.MAX_ALIASES + " aliases to collections");
        }
      }
      default -> {}
    }
    return e;
  }

  /** Nodes written in the document (before aliases are expanded). */
  long nodes() {
    return nodes;
  }

  private static Mark mark(Event e) {
    return e.getStartMark().orElse(null);
  }
}
