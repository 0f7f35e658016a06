package io.runbook.event;

/** Receives the events of a run, in order, from one thread at a time. */
@FunctionalInterface
public interface EventListener {
  void on(Event event);
}
