package io.runbook.result;

/** The outcome of one step on one host. */
public enum Status {
  OK,
  CHANGED,
  FAILED,
  SKIPPED
}
