package io.runbook.engine;

import io.runbook.event.EventListener;
import io.runbook.execution.Connector;
import io.runbook.execution.Executor;
import io.runbook.execution.RunControl;
import io.runbook.secret.SecretValues;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * How a planned run is carried out: where its journal goes, how hosts are reached, how many at
 * once, its control (stop, locks, leases), whose secrets are masked in its events, who confirms
 * each batch, and the views that watch its events besides the journal (each made given the journal
 * file, which it may name).
 *
 * @param append continue the run's existing journal (resume, rollback) instead of starting one
 */
public record Launch(
    Path stateDir,
    boolean append,
    Connector connector,
    int forks,
    RunControl control,
    SecretValues secrets,
    Executor.Confirmer confirmer,
    List<Function<Path, EventListener>> views) {

  public Launch {
    views = List.copyOf(views);
  }

  /** A run that confirms every batch by itself and has no view besides its journal. */
  public static Launch of(
      Path stateDir, Connector connector, int forks, RunControl control, SecretValues secrets) {
    return new Launch(
        stateDir, false, connector, forks, control, secrets, (b, n, h) -> true, List.of());
  }

  public Launch appending() {
    return new Launch(stateDir, true, connector, forks, control, secrets, confirmer, views);
  }

  public Launch confirmedBy(Executor.Confirmer c) {
    return new Launch(stateDir, append, connector, forks, control, secrets, c, views);
  }

  /** Adds a view of the run's events, after the ones already there. */
  public Launch view(Function<Path, EventListener> view) {
    List<Function<Path, EventListener>> more = new ArrayList<>(views);
    more.add(view);
    return new Launch(stateDir, append, connector, forks, control, secrets, confirmer, more);
  }
}
