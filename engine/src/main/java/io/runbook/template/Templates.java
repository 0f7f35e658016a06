package io.runbook.template;

import freemarker.core.Environment;
import freemarker.core.InvalidReferenceException;
import freemarker.core.ParseException;
import freemarker.core.TemplateClassResolver;
import freemarker.core.TemplateNumberFormat;
import freemarker.core.TemplateNumberFormatFactory;
import freemarker.core.TemplateValueFormatException;
import freemarker.template.Configuration;
import freemarker.template.DefaultObjectWrapperBuilder;
import freemarker.template.ObjectWrapper;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import freemarker.template.TemplateHashModel;
import freemarker.template.TemplateModel;
import freemarker.template.TemplateModelException;
import freemarker.template.TemplateNumberModel;
import freemarker.template.utility.DeepUnwrap;
import io.runbook.yaml.Suggestions;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * FreeMarker configured for runbooks. Interpolations are {@code [=expr]} and directives {@code [#if
 * ...]} (FreeMarker's square-bracket syntax), so the shell's own {@code ${VAR}}, {@code $(cmd)} and
 * {@code <#...>} pass through to the host untouched. Undefined variables are errors, never empty
 * strings.
 */
public final class Templates {
  private static final Configuration CONFIG = configure();
  private static final Map<String, Template> CACHE = new ConcurrentHashMap<>();
  private static final int CACHE_LIMIT = 10_000;

  private Templates() {}

  private static Configuration configure() {
    Configuration c = new Configuration(Configuration.VERSION_2_3_34);
    c.setInterpolationSyntax(Configuration.SQUARE_BRACKET_INTERPOLATION_SYNTAX);
    c.setTagSyntax(Configuration.SQUARE_BRACKET_TAG_SYNTAX);
    c.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
    c.setLogTemplateExceptions(false);
    c.setWrapUncheckedExceptions(true);
    c.setAttemptExceptionReporter((e, env) -> {});
    c.setCustomNumberFormats(Map.of("runbook", new NumberFormats()));
    c.setNumberFormat("@runbook");
    c.setBooleanFormat("c");
    c.setAPIBuiltinEnabled(false);
    c.setNewBuiltinClassResolver(TemplateClassResolver.ALLOWS_NOTHING_RESOLVER);
    c.setObjectWrapper(new DefaultObjectWrapperBuilder(Configuration.VERSION_2_3_34).build());
    c.setLocalizedLookup(false);
    return c;
  }

  /** True when the text contains template syntax at all; plain strings skip FreeMarker entirely. */
  public static boolean isTemplate(String text) {
    return text != null && (text.contains("[=") || text.contains("[#") || text.contains("[@"));
  }

  /**
   * Renders {@code text} with {@code model}.
   *
   * @param name names the template in messages (a file or {@code file:line:col})
   * @throws TemplateError with a one-line message when the text is invalid or a variable is
   *     undefined
   */
  public static String render(String text, String name, Map<String, ?> model) {
    if (!isTemplate(text)) return text;
    Template t = parse(text, name);
    StringWriter out = new StringWriter(text.length() + 32);
    TrackingModel tracked = new TrackingModel(model, CONFIG.getObjectWrapper());
    try {
      t.process(tracked, out);
    } catch (TemplateException e) {
      // FreeMarker passes an undefined variable to a built-in as null and then blames the built-in;
      // the variable is what the user got wrong.
      if (!tracked.misses().isEmpty()) {
        String miss = tracked.misses().iterator().next();
        throw new TemplateError(
            "undefined variable '" + miss + "'" + Suggestions.didYouMean(miss, model.keySet()));
      }
      throw new TemplateError(describe(e, model));
    } catch (IOException e) {
      throw new TemplateError(e.getMessage());
    } catch (StackOverflowError e) {
      throw new TemplateError(TOO_DEEP);
    }
    return out.toString();
  }

  /**
   * Renders every string inside a YAML value (maps, lists, scalars); other values are kept as they
   * are.
   */
  public static Object renderAll(Object value, String name, Map<String, ?> model) {
    if (value instanceof String s) return render(s, name, model);
    if (value instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k, renderAll(v, name, model)));
      return out;
    }
    if (value instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object v : l) out.add(renderAll(v, name, model));
      return out;
    }
    return value;
  }

  /**
   * Evaluates a condition ({@code when:}, {@code until:}, {@code failed_when:}, {@code assert})
   * written as a bare FreeMarker expression, e.g. {@code installed.stdout != target_version}.
   */
  public static boolean evaluate(String expression, String name, Map<String, ?> model) {
    String e = expression.strip();
    if (e.equals("true")) return true;
    if (e.equals("false")) return false;
    String result = render("[#if (" + e + ")]true[#else]false[/#if]", name, model);
    return result.equals("true");
  }

  /**
   * The value of a bare FreeMarker expression (a {@code loop: "[=expr]"}), not its text: a list
   * stays a list. Values a plan does not know yet come back as {@link Unknown}.
   *
   * @throws TemplateError with a one-line message when the expression is invalid or a variable is
   *     undefined
   */
  public static Object value(String expression, String name, Map<String, ?> model) {
    Template t = parse("[#assign runbook_value__ = (" + expression.strip() + ")]", name);
    TrackingModel tracked = new TrackingModel(model, CONFIG.getObjectWrapper());
    try {
      Environment env = t.createProcessingEnvironment(tracked, new StringWriter());
      env.process();
      TemplateModel v = env.getVariable("runbook_value__");
      if (v == null || v instanceof Unknown) return v;
      return DeepUnwrap.unwrap(v);
    } catch (TemplateException e) {
      if (!tracked.misses().isEmpty()) {
        String miss = tracked.misses().iterator().next();
        throw new TemplateError(
            "undefined variable '" + miss + "'" + Suggestions.didYouMean(miss, model.keySet()));
      }
      throw new TemplateError(describe(e, model));
    } catch (IOException e) {
      throw new TemplateError(e.getMessage());
    } catch (StackOverflowError e) {
      throw new TemplateError(TOO_DEEP);
    }
  }

  private static Template parse(String text, String name) {
    Template cached = CACHE.get(text);
    if (cached != null) return cached;
    try {
      Template t = new Template(name, new StringReader(text), CONFIG);
      if (CACHE.size() < CACHE_LIMIT) CACHE.put(text, t);
      return t;
    } catch (ParseException e) {
      // The whole message: its first line alone stops mid-sentence ("... must have # or @ after the
      // /").
      throw new TemplateError("template syntax error: " + oneLine(e.getEditorMessage()));
    } catch (IOException e) {
      throw new TemplateError(e.getMessage());
    } catch (StackOverflowError e) {
      // FreeMarker's parser recurses once per nested bracket or directive; a hostile string of a
      // few
      // thousand "(" would otherwise end the JVM's patience with a stack trace. The stack is
      // unwound
      // by now, and nothing was cached.
      throw new TemplateError(TOO_DEEP);
    }
  }

  private static final String TOO_DEEP =
      "template nested too deeply (thousands of brackets or directives "
          + "inside each other): simplify it";

  private static String describe(TemplateException e, Map<String, ?> model) {
    if (e instanceof InvalidReferenceException ire) {
      String blamed = ire.getBlamedExpressionString();
      if (blamed != null) {
        String top = blamed.split("[.\\[?!]", 2)[0];
        if (blamed.equals(top) || !model.containsKey(top)) {
          return "undefined variable '"
              + blamed
              + "'"
              + Suggestions.didYouMean(top, model.keySet());
        }
        return "'" + blamed + "' is undefined (" + top + " has no such field)";
      }
    }
    return firstLine(e.getMessageWithoutStackTop());
  }

  /**
   * Why {@code text} is not a valid template, without rendering it (nothing is known of the
   * variables yet, as in {@code validate}); empty when it parses or holds no template syntax.
   */
  public static Optional<String> syntaxProblem(String text) {
    if (!isTemplate(text)) return Optional.empty();
    try {
      parse(text, "syntax");
      return Optional.empty();
    } catch (TemplateError e) {
      return Optional.of(e.getMessage());
    }
  }

  /** As {@link #syntaxProblem}, for a condition ({@code when:} ...), which is a bare expression. */
  public static Optional<String> conditionSyntaxProblem(String expression) {
    String e = expression.strip();
    if (e.equals("true") || e.equals("false")) return Optional.empty();
    return syntaxProblem("[#if (" + e + ")]true[#else]false[/#if]").map(m -> m + CONDITION_HINT);
  }

  private static final String CONDITION_HINT =
      " (a condition is a FreeMarker expression, such as "
          + "result.rc == 0 or result.stderr?contains(\"ERROR\"))";

  private static String oneLine(String s) {
    if (s == null) return "template error";
    return s.strip().replaceAll("\\s+", " ");
  }

  private static String firstLine(String s) {
    if (s == null) return "template error";
    String line = s.strip().lines().findFirst().orElse(s).strip();
    return line.replaceAll("\\s+", " ");
  }

  /**
   * Numbers as a computer reads them ({@code 8080}, not {@code 8,080}); an {@link Unknown}, which
   * FreeMarker prints as a number before it would as text, by its name.
   */
  private static final class NumberFormats extends TemplateNumberFormatFactory {
    @Override
    public TemplateNumberFormat get(String params, Locale locale, Environment env)
        throws TemplateValueFormatException {
      TemplateNumberFormat computer = env.getTemplateNumberFormat("computer");
      return new TemplateNumberFormat() {
        @Override
        public String formatToPlainText(TemplateNumberModel n)
            throws TemplateValueFormatException, TemplateModelException {
          return n instanceof Unknown u ? u.getAsString() : computer.formatToPlainText(n);
        }

        @Override
        public boolean isLocaleBound() {
          return false;
        }

        @Override
        public String getDescription() {
          return "runbook";
        }
      };
    }
  }

  /** The data model, remembering which top-level names were asked for and not found. */
  private static final class TrackingModel implements TemplateHashModel {
    private final Map<String, ?> model;
    private final ObjectWrapper wrapper;
    private final Set<String> misses = new LinkedHashSet<>();

    TrackingModel(Map<String, ?> model, ObjectWrapper wrapper) {
      this.model = model;
      this.wrapper = wrapper;
    }

    @Override
    public TemplateModel get(String key) throws TemplateModelException {
      Object v = model.get(key);
      if (v == null) {
        if (!model.containsKey(key)) misses.add(key);
        return null;
      }
      return wrapper.wrap(v);
    }

    @Override
    public boolean isEmpty() {
      return model.isEmpty();
    }

    Set<String> misses() {
      return misses;
    }
  }

  /** A template that cannot be rendered; the message is one line and names no Java type. */
  public static final class TemplateError extends RuntimeException {
    public TemplateError(String message) {
      super(message);
    }
  }
}
