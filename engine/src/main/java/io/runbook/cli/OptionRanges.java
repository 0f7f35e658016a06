package io.runbook.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The allowed range of every numeric option, checked once the command line is parsed and before any
 * command runs, whichever command declares the option: a value outside is a usage error (exit 4)
 * naming the option and the range, never a run with a silently clamped value.
 */
final class OptionRanges {
  record Range(String option, long min, long max, String meaning) {
    boolean contains(long v) {
      return v >= min && v <= max;
    }

    String describe() {
      String range = max == Integer.MAX_VALUE ? "at least " + min : "from " + min + " to " + max;
      return option
          + " must be a whole number "
          + range
          + (meaning.isEmpty() ? "" : " (" + meaning + ")");
    }
  }

  static final List<Range> RANGES =
      List.of(
          new Range("--forks", 1, 1000, "hosts in parallel"),
          new Range("--max-fail-percentage", 0, 100, "a percentage of a batch's hosts"),
          new Range("--connect-timeout", 1, 86_400, "seconds"),
          new Range("--lock-lease", 1, Integer.MAX_VALUE, "seconds"),
          new Range("--last", 0, Integer.MAX_VALUE, "runs to show; 0 for all"),
          new Range("--hosts-per-mode", 1, 1000, "hosts rehearsed per mode"));

  private OptionRanges() {}

  /** Throws for the first numeric option given outside its range, in this command or a parent. */
  static void check(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      for (OptionSpec o : p.matchedOptions()) {
        for (Range r : RANGES) {
          if (!List.of(o.names()).contains(r.option())) continue;
          Object v = o.getValue();
          if (v instanceof Number n && !r.contains(n.longValue())) {
            throw new ParameterException(
                p.commandSpec().commandLine(),
                r.describe() + ", not " + p.matchedOption(r.option()).stringValues().get(0));
          }
        }
      }
    }
  }

  /** Runs the command as picocli would, after {@link #check}. */
  static CommandLine.IExecutionStrategy strategy() {
    return parsed -> {
      check(parsed);
      return new CommandLine.RunLast().execute(parsed);
    };
  }
}
