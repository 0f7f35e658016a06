package io.runbook.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.docs.StepReference;
import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runbook docs steps} rewrites docs/steps.md and README.md's step list in a checkout, and
 * only those.
 */
class DocsCommandTest {
  @TempDir Path root;

  @Test
  void rewritesTheStepReferenceAndTheReadmeList() throws IOException {
    Files.createDirectories(root.resolve("docs"));
    Files.writeString(root.resolve("docs/steps.md"), "old\n");
    Files.writeString(
        root.resolve("README.md"),
        "# runbook\n\nintro\n\n"
            + StepReference.LIST_BEGIN
            + "\nold list\n"
            + StepReference.LIST_END
            + "\n\n## Documentation\n");

    Run run = Cli.run("docs", "steps", "--root", root.toString());

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(Files.readString(root.resolve("docs/steps.md"))).isEqualTo(StepReference.page());
    assertThat(Files.readString(root.resolve("README.md")))
        .isEqualTo(
            "# runbook\n\nintro\n\n" + StepReference.readmeList() + "\n\n## Documentation\n");
  }

  @Test
  void refusesAReadmeWithoutTheListAndADirectoryThatIsNoCheckout() throws IOException {
    Run none = Cli.run("docs", "steps", "--root", root.toString());
    assertThat(none.code()).isEqualTo(4);
    assertThat(none.err())
        .contains("is not a runbook checkout (it needs README.md and docs/): pass --root DIR");

    Files.createDirectories(root.resolve("docs"));
    Files.writeString(root.resolve("README.md"), "# runbook\n");
    Run noList = Cli.run("docs", "steps", "--root", root.toString());
    assertThat(noList.code()).isEqualTo(4);
    assertThat(noList.err())
        .contains("README.md has no generated step list")
        .doesNotContain("Exception");
    assertThat(root.resolve("docs/steps.md")).doesNotExist();

    assertThat(Cli.run("docs", "manual", "--root", root.toString()).err())
        .contains("no generated docs named 'manual'");
  }
}
