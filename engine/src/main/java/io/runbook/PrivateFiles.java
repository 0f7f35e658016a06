package io.runbook;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * Every file runbook writes (journals, undo state, reports, rehearsal records) holds commands and
 * output that may carry secrets, so it is created readable by its owner only: files 0600,
 * directories 0700.
 *
 * <p>Directories are tightened only where they are runbook's own: one created here, or one below
 * the state directory (an older version made {@code runs/<id>} 0755). A directory the user made,
 * such as the state directory itself or a report's {@code -o} folder, is never changed.
 */
public final class PrivateFiles {
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  public static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  private PrivateFiles() {}

  /** Creates {@code dir} and its missing parents, each 0700; existing ones are left as they are. */
  public static Path directory(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    Deque<Path> missing = new ArrayDeque<>();
    for (Path p = abs; p != null && !Files.isDirectory(p); p = p.getParent()) missing.push(p);
    while (!missing.isEmpty()) {
      Path p = missing.pop();
      try {
        Files.createDirectory(p);
      } catch (FileAlreadyExistsException raced) {
        if (!Files.isDirectory(p)) throw raced;
        continue; // another process made it: not ours to tighten
      }
      restrict(p, DIRECTORY);
    }
    return dir;
  }

  /**
   * Creates {@code dir} below {@code root} as {@link #directory} does, and tightens every directory
   * between {@code root} (exclusive) and {@code dir} to 0700: those are runbook's own ({@code
   * runs/}, a run's).
   */
  public static Path directoryBelow(Path root, Path dir) throws IOException {
    directory(dir);
    Path r = root.toAbsolutePath().normalize();
    Path d = dir.toAbsolutePath().normalize();
    if (!d.startsWith(r)) return dir;
    for (Path p = d; p != null && !p.equals(r); p = p.getParent()) restrict(p, DIRECTORY);
    return dir;
  }

  /** A new file (it must not exist), 0600 from the start, opened for appending. */
  public static FileChannel createNew(Path file) throws IOException {
    FileChannel c =
        FileChannel.open(
            file,
            Set.of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
            PosixFilePermissions.asFileAttribute(FILE));
    restrict(file, FILE); // the attribute is subject to the umask; the mode is not
    return c;
  }

  /**
   * Opens a file for appending, creating it 0600 if missing; an existing one (an older version's)
   * is tightened.
   */
  public static FileChannel append(Path file, boolean create) throws IOException {
    if (create && !Files.exists(file)) {
      try {
        return createNew(file);
      } catch (FileAlreadyExistsException raced) {
        // opened below
      }
    }
    FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    restrict(file, FILE);
    return c;
  }

  /**
   * Writes a whole file, replacing it atomically (a reader never sees half of it) with a 0600 one;
   * its directory is created with {@link #directory}.
   */
  public static Path write(Path file, String text) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    directory(dir);
    Path tmp =
        Files.createTempFile(
            dir,
            "." + file.getFileName() + "-",
            ".tmp",
            PosixFilePermissions.asFileAttribute(FILE));
    try {
      restrict(tmp, FILE);
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return file;
  }

  private static void restrict(Path p, Set<PosixFilePermission> mode) throws IOException {
    // only runbook's own files and directories: never a device or whatever a link points at
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
        && !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      if (!Files.getPosixFilePermissions(p).equals(mode)) Files.setPosixFilePermissions(p, mode);
    } catch (UnsupportedOperationException notPosix) {
      // a file system without modes (FAT, some mounts): its defaults apply
    }
  }
}
