package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbook report} through Main, over copies of real runs' journals
 * (engine/src/test/resources/journals).
 */
class ReportCommandTest {
  static final String ROLLED_BACK = "20261121-214915-3fe5";
  static final String INTERRUPTED = "20261121-214903-3fd0";
  static final String ROLLBACK_FAILED = "20261121-214714-3fc9";

  @TempDir Path tmp;
  Path state;

  @BeforeEach
  void copyJournals() throws Exception {
    Path from = Path.of(HistoryShowTest.STATE);
    state = tmp.resolve("state");
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path to = state.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) Files.createDirectories(to);
        else Files.copy(f, to);
      }
    }
  }

  @Test
  void writesThePageBesideTheJournalAndPrintsItsPath() throws Exception {
    Run run = Cli.run("report", ROLLED_BACK, "--state-dir", state.toString());

    Path page = state.resolve("runs").resolve(ROLLED_BACK).resolve("report.html");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo(page + "\n");
    assertThat(run.err()).isEmpty();
    String html = Files.readString(page);
    assertThat(html)
        .contains("<h1>Upgrade the sample service to 2.0.0</h1>")
        .contains("rolled back · exit 2")
        .contains(
            "'Apply the 2.0.0 database migrations' failed: exit code 1: [ERROR] Reason: duplicate column name: thread_id");
    try (Stream<Path> left = Files.list(page.getParent())) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .as("no temporary file left behind")
          .containsExactlyInAnyOrder("journal.jsonl", "report.html");
    }
  }

  @Test
  void lastAPrefixAndOutputFile() throws Exception {
    Path out = tmp.resolve("pages/incident.html");

    Run last = Cli.run("report", "last", "--state-dir", state.toString(), "-o", out.toString());
    assertThat(last.code()).as(last.err()).isZero();
    assertThat(last.out().strip()).isEqualTo(out.toString());
    assertThat(Files.readString(out)).contains("run " + ROLLED_BACK);

    Run prefix =
        Cli.run(
            "report", "20261121-2147", "--state-dir", state.toString(), "--output", out.toString());
    assertThat(prefix.code()).as(prefix.err()).isZero();
    assertThat(Files.readString(out))
        .contains("run " + ROLLBACK_FAILED)
        .contains("rollback failed · exit 3")
        .contains("3 — a rollback failed: a host needs a person");
  }

  @Test
  void anInterruptedRunHasNoExitCodeAndShowsWhereHostsWere() throws Exception {
    Run run = Cli.run("report", INTERRUPTED, "--state-dir", state.toString());

    assertThat(run.code()).as(run.err()).isZero();
    String html = Files.readString(Path.of(run.out().strip()));
    assertThat(html)
        .contains(">interrupted</div>")
        .contains("none (the run did not finish)")
        .contains("was running 'Switch to the new release' when the journal ends")
        .contains("fill=\"url(#inflight)\"");
  }

  @Test
  void anUnknownRunSaysHowToFindIds() {
    Run run = Cli.run("report", "20991231", "--state-dir", state.toString());

    assertThat(run.code()).isEqualTo(4);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .isEqualTo(
            "runbook: no run '20991231' in "
                + state.resolve("runs")
                + "; the newest are: "
                + ROLLED_BACK
                + ", "
                + INTERRUPTED
                + ", "
                + ROLLBACK_FAILED
                + " (see 'runbook history')\n");

    Run none = Cli.run("report", "last", "--state-dir", tmp.resolve("empty").toString());
    assertThat(none.code()).isEqualTo(4);
    assertThat(none.err())
        .isEqualTo(
            "runbook: no runs in "
                + tmp.resolve("empty/runs")
                + " yet, so no 'last' run "
                + "(pass --state-dir if the runs were journaled elsewhere)\n");
  }

  @Test
  void anUnwritableOutputIsOneClearError() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");

    Run run =
        Cli.run(
            "report",
            ROLLED_BACK,
            "--state-dir",
            state.toString(),
            "-o",
            file.resolve("r.html").toString());

    assertThat(run.code()).isEqualTo(4);
    assertThat(run.err())
        .startsWith("runbook: cannot write the report to " + file.resolve("r.html") + ": ")
        .endsWith("(pass -o with a writable path)\n")
        .doesNotContain("\tat ");
  }
}
