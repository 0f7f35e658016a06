package io.runbook.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Delivers each event to every listener, serialised: hosts run in parallel, but listeners see one
 * event at a time, in the order they were published, so the journal and the console never
 * interleave.
 */
public final class EventBus implements EventListener {
  private final List<EventListener> listeners = new CopyOnWriteArrayList<>();

  public EventBus add(EventListener listener) {
    listeners.add(listener);
    return this;
  }

  @Override
  public synchronized void on(Event event) {
    for (EventListener l : listeners) l.on(event);
  }
}
