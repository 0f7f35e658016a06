package io.runbook.step;

/**
 * The base of every step type: its YAML key and argument record are given once, to the constructor,
 * so a step type states only what is its own ({@code validate}, {@code execute}, {@code undo},
 * {@code backups}). Binding goes through {@link Step#bind}, the same at plan time and at run time.
 *
 * @param <A> the record the step's arguments bind to
 */
public abstract class StepType<A> implements Step<A> {
  private final String key;
  private final Class<A> argsType;

  protected StepType(String key, Class<A> argsType) {
    this.key = key;
    this.argsType = argsType;
  }

  @Override
  public final String key() {
    return key;
  }

  @Override
  public final Class<A> argsType() {
    return argsType;
  }
}
