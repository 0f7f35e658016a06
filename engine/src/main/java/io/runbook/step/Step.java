package io.runbook.step;

import io.runbook.result.StepResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One step type: the code behind a YAML key such as {@code shell:} or {@code copy:}.
 *
 * <p>The engine binds the step's (already templated) arguments to {@link #argsType()} with {@link
 * #bind} after validating them against the JSON Schema at {@link #schemaResource()}, runs {@link
 * #validate}, then calls {@link #execute}; at plan time and at run time alike ({@code
 * model.StepBinding}). A step never prints; it returns a {@link StepResult}. Implementations extend
 * {@link StepType}, are stateless singletons listed in {@link StepRegistry}, and have table-driven
 * cases under {@code src/test/resources/io/runbook/steps/<key>/}.
 *
 * @param <A> the record the step's arguments bind to
 */
public interface Step<A> {

  /** The YAML key that selects this step type. */
  String key();

  /**
   * The record the arguments bind to. A plain string argument binds through a delegating creator.
   */
  Class<A> argsType();

  /** Classpath resource of the JSON Schema of the arguments (draft 2020-12). */
  default String schemaResource() {
    return "/io/runbook/schema/steps/" + key() + ".json";
  }

  /**
   * The arguments (YAML values, already rendered) as {@link #argsType()}, with the one binding
   * configuration of {@link StepArgs}. Only a binding: the schema and {@link #validate} are the
   * binder's.
   *
   * @throws IllegalArgumentException when they do not fit the record
   */
  default A bind(Object args) {
    return StepArgs.bind(args, argsType());
  }

  /** Checks that the schema cannot express; each string is one problem with the arguments. */
  default List<String> validate(A args) {
    return List.of();
  }

  /**
   * Checks the controller-side files the arguments name (sources, templates, migrations, schemas),
   * relative to the runbook's directory, before any host is contacted: that they exist, can be read
   * and are valid. Each string is one problem.
   *
   * @param model the host's variables (registered values as stand-ins) when planning for a host, so
   *     a template file can be rendered; null when validating without an inventory (syntax only)
   */
  default List<String> checkFiles(A args, Path baseDir, Map<String, ?> model) {
    return List.of();
  }

  /**
   * Runs the step on the context's host. Failures of the step itself are results, not exceptions.
   */
  StepResult execute(A args, StepContext context) throws Exception;

  /**
   * Whether {@link #undo} can ever return an undo; plans show it as the step's automatic rollback.
   */
  default boolean undoable() {
    return false;
  }

  /** Whether these arguments can have an automatic undo (e.g. kubectl's set_image, not its get). */
  default boolean undoable(A args) {
    return undoable();
  }

  /**
   * How to undo this step after it completed, when the runbook gives no explicit {@code rollback:}.
   * Called once the step has run, with its result; empty when the step cannot be undone
   * automatically.
   */
  default Optional<Undo> undo(A args, StepResult result) {
    return Optional.empty();
  }

  /**
   * The archives a run of this step writes, so that {@code runbook rehearse} can seed a rehearsal
   * host with production's backups and restore the one named {@code latest}. Arguments here are
   * bound but not validated, and a value only the run will know reads {@code ⟨name⟩} (the rehearsal
   * drops a backup that holds one).
   */
  default List<Backup> backups(A args) {
    return List.of();
  }

  /**
   * A URL whose answer says the service is up, when this step checks that (the {@code http} step);
   * the rehearsal takes the first one in the verify phase as its downtime probe.
   */
  default Optional<String> probe(A args) {
    return Optional.empty();
  }

  /**
   * Where a backup writes: {@code DEST/<run id>/NAME.tar.gz}, holding {@code paths} (files on the
   * host) or the contents of the Docker {@code volume}; the other of the two is empty or null.
   */
  record Backup(String dest, String name, List<String> paths, String volume) {
    public Backup {
      paths = List.copyOf(paths);
    }
  }

  /** The automatic inverse of a completed step. */
  interface Undo {
    /** What the undo does, for plans, the console and the journal. */
    String description();

    StepResult run(StepContext context) throws Exception;
  }
}
