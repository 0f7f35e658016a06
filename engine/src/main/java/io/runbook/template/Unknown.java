package io.runbook.template;

import freemarker.template.TemplateBooleanModel;
import freemarker.template.TemplateCollectionModel;
import freemarker.template.TemplateHashModelEx;
import freemarker.template.TemplateModel;
import freemarker.template.TemplateModelIterator;
import freemarker.template.TemplateNumberModel;
import freemarker.template.TemplateScalarModel;
import freemarker.template.TemplateSequenceModel;

/**
 * Stands in, while a run is planned, for a value that only exists once the run is under way (a
 * {@code register:} of an earlier step). It answers as any type and any field, so planning catches
 * variables that can never be defined without rejecting the ones that will be. As text it reads
 * {@code ⟨name.field⟩}, which plans show and which {@link #appearsIn} detects.
 */
public final class Unknown
    implements TemplateHashModelEx,
        TemplateScalarModel,
        TemplateNumberModel,
        TemplateBooleanModel,
        TemplateSequenceModel {
  private final String name;

  private Unknown(String name) {
    this.name = name;
  }

  public static Unknown of(String name) {
    return new Unknown(name);
  }

  /** True when a rendered text contains a value that is only known at run time. */
  public static boolean appearsIn(Object rendered) {
    return rendered != null && rendered.toString().contains("⟨");
  }

  @Override
  public TemplateModel get(String key) {
    return new Unknown(name + "." + key);
  }

  @Override
  public boolean isEmpty() {
    return false;
  }

  @Override
  public int size() {
    return 1;
  }

  @Override
  public TemplateModel get(int index) {
    return new Unknown(name + "[" + index + "]");
  }

  @Override
  public String getAsString() {
    return "⟨" + name + "⟩";
  }

  /**
   * 0 for arithmetic and comparisons; printed by its name (see {@link Templates}' number format).
   */
  @Override
  public Number getAsNumber() {
    return 0;
  }

  @Override
  public boolean getAsBoolean() {
    return true;
  }

  @Override
  public TemplateCollectionModel keys() {
    return () ->
        new TemplateModelIterator() {
          @Override
          public TemplateModel next() {
            return null;
          }

          @Override
          public boolean hasNext() {
            return false;
          }
        };
  }

  @Override
  public TemplateCollectionModel values() {
    return keys();
  }
}
