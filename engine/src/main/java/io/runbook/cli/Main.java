package io.runbook.cli;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.yaml.Problems.InvalidInputException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code runbook} command. {@link #run} is the in-process entry tests use; {@link #main} exits
 * with its code. Errors become one message here, and only here; stack traces only with {@code
 * --debug}.
 */
@Command(
    name = "runbook",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description =
        "Declarative upgrade runbooks, executed over SSH across an inventory, with automatic rollback.",
    subcommands = {
      ApplyCommand.class,
      PlanCommand.class,
      ValidateCommand.class,
      InventoryCommand.class,
      ResumeCommand.class,
      RollbackCommand.class,
      RehearseCommand.class,
      HistoryCommand.class,
      ShowCommand.class,
      ReportCommand.class,
      SchemaCommand.class,
      DemoCommand.class,
      DoctorCommand.class,
      DocsCommand.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0  every host succeeded",
      "  1  upgrades held, but a cleanup step failed somewhere",
      "  2  some host failed and was rolled back cleanly (or was untouched, unreachable, locked, undone, or not run)",
      "  3  a rollback failed: a host needs a person",
      "  4  invalid input: nothing was run",
      "  5  internal error",
      "130  interrupted (Ctrl-C): in-flight steps finished, hosts in progress rolled back"
    })
public final class Main {
  @Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Show stack traces of errors.")
  boolean debug;

  public static void main(String[] args) {
    System.exit(run(System.out, System.err, args));
  }

  public static int run(PrintStream out, PrintStream err, String... args) {
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    cli.setOut(new PrintWriter(new OutputStreamWriter(out, Charset.defaultCharset()), true));
    cli.setErr(new PrintWriter(new OutputStreamWriter(err, Charset.defaultCharset()), true));
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionStrategy(OptionRanges.strategy());
    // '-e @vars.yml' names a variables file, as in Ansible; picocli would read it as an argument
    // file.
    cli.setExpandAtFiles(false);
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          err.println("runbook: " + ex.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
          err.println(
              "Try 'runbook "
                  + (ex.getCommandLine() == cli ? "" : ex.getCommandLine().getCommandName() + " ")
                  + "--help'.");
          return ErrorCode.INVALID_INPUT.exitCode();
        });
    if (hasDebug(args))
      System.setProperty("runbook.debug", "true"); // steps' internal errors keep their stack
    cli.setExecutionExceptionHandler(
        (ex, c, parsed) -> report(ex, err, main.debug || hasDebug(args)));
    try {
      return cli.execute(args);
    } catch (StackOverflowError e) {
      // The readers bound nesting (YAML, templates) and report it at its place; this is the net
      // under
      // whatever they missed: one line, not a stack trace. What recurses that deep is nested input.
      err.println(
          "runbook: the input is nested too deeply to process (stack overflow): simplify it");
      if (hasDebug(args)) e.printStackTrace(err);
      return ErrorCode.INVALID_INPUT.exitCode();
    }
  }

  private static boolean hasDebug(String[] args) {
    for (String a : args) if (a.equals("--debug")) return true;
    return false;
  }

  static int report(Exception ex, PrintStream err, boolean debug) {
    if (ex instanceof InvalidInputException iie) {
      iie.problems().forEach(p -> err.println(p));
      err.println(iie.problems().size() + " problem(s); nothing was run.");
    } else if (ex instanceof RunbookException re) {
      err.println("runbook: " + re.getMessage());
    } else {
      err.println(
          "runbook: internal error: "
              + ex
              + " (run again with --debug for the stack trace,"
              + " and report it)");
    }
    if (debug) ex.printStackTrace(err);
    return ex instanceof RunbookException re ? re.code().exitCode() : ErrorCode.INTERNAL.exitCode();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"runbook " + (v == null ? "dev" : v)};
    }
  }
}
