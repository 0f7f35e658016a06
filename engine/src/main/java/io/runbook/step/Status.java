package io.runbook.step;

/** The outcome of one step on one host. */
public enum Status {
  OK, CHANGED, FAILED, SKIPPED
}
