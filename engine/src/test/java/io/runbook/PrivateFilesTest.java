package io.runbook;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.journal.JournalWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateFilesTest {
  @TempDir Path tmp;

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void runbooksOwnDirectoriesAreTightenedAndTheUsersAreLeftAlone() throws Exception {
    Path state =
        Files.createDirectory(
            tmp.resolve("state"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path oldRuns = Files.createDirectory(state.resolve("runs"));
    Files.setPosixFilePermissions(oldRuns, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (JournalWriter w = JournalWriter.open(state, "20260101-000000-0001")) {
      assertThat(mode(w.file())).isEqualTo("rw-------");
      assertThat(mode(w.file().getParent())).isEqualTo("rwx------");
    }
    assertThat(mode(oldRuns)).isEqualTo("rwx------");
    assertThat(mode(state)).as("the user's").isEqualTo("rwxr-xr-x");

    // a journal an older version wrote world-readable is tightened when a run appends to it
    Path old = state.resolve("runs/20250101-000000-0001/journal.jsonl");
    Files.createDirectories(old.getParent());
    Files.writeString(old, "");
    Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-r--r--"));
    JournalWriter.append(state, "20250101-000000-0001").close();
    assertThat(mode(old)).isEqualTo("rw-------");
    assertThat(mode(old.getParent())).isEqualTo("rwx------");
  }

  @Test
  void writtenFilesAndTheDirectoriesMadeForThemAreTheOwnersOnly() throws Exception {
    Path f = PrivateFiles.write(tmp.resolve("new/deeper/report.html"), "<p>x</p>");
    assertThat(Files.readString(f)).isEqualTo("<p>x</p>");
    assertThat(mode(f)).isEqualTo("rw-------");
    assertThat(mode(tmp.resolve("new"))).isEqualTo("rwx------");
    assertThat(mode(tmp.resolve("new/deeper"))).isEqualTo("rwx------");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
    PrivateFiles.write(f, "again");
    assertThat(mode(f)).isEqualTo("rw-------");
    try (var s = Files.list(f.getParent())) {
      assertThat(s.toList()).containsExactly(f);
    }
  }
}
