package io.runbook.event;

import java.time.Instant;
import java.util.List;

/**
 * A completed step put its undo on the host's rollback stack: its explicit handlers, or its step
 * type's own undo. The journal's sequence of these is the host's stack, for {@code resume} and
 * {@code rollback}.
 */
public record RollbackPushed(
    Instant at, String host, int index, String forStep, List<String> handlers, String undo)
    implements Event {}
