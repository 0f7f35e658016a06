package io.runbook.yaml;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Reads an input file (runbook, inventory) as UTF-8 text, refusing what is not a small regular file
 * before opening it: opening a FIFO blocks until a writer comes, and {@code /dev/zero} never ends.
 */
public final class InputFiles {
  /**
   * The largest input file read; runbooks and inventories are kilobytes, so this only stops abuse.
   */
  public static final int MAX_BYTES = 4 * 1024 * 1024;

  private InputFiles() {}

  /**
   * The file's text, or empty with one problem at the file (or at the first byte that is not
   * UTF-8).
   */
  public static Optional<String> read(Path path, String displayName, Problems problems) {
    Location file = Location.of(displayName);
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      problems.add(file, "file not found");
      return Optional.empty();
    } catch (IOException e) {
      problems.add(file, "cannot read file: " + reason(e));
      return Optional.empty();
    }
    Optional<String> notAFile = notRegular(attrs);
    if (notAFile.isPresent()) {
      problems.add(file, notAFile.get());
      return Optional.empty();
    }
    if (attrs.size() > MAX_BYTES) {
      problems.add(file, tooLarge(attrs.size()));
      return Optional.empty();
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path)) {
      // Bounded even if the file grew (or was swapped) since its size was read.
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      problems.add(file, "cannot read file: " + reason(e));
      return Optional.empty();
    }
    if (bytes.length > MAX_BYTES) {
      problems.add(file, tooLarge(bytes.length));
      return Optional.empty();
    }
    return decode(bytes, displayName, problems);
  }

  /**
   * Why a path that exists is not an input file, if it is not: a directory, FIFO, device or socket.
   */
  public static Optional<String> notRegular(BasicFileAttributes attrs) {
    if (attrs.isDirectory()) return Optional.of("is a directory, not a file");
    if (!attrs.isRegularFile()) {
      return Optional.of(
          "is not a regular file (a FIFO, device or socket); runbook reads only regular files");
    }
    return Optional.empty();
  }

  /** UTF-8, strictly: a stray Latin-1 byte is named by line and column, not replaced by U+FFFD. */
  static Optional<String> decode(byte[] bytes, String displayName, Problems problems) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length + 1);
    CoderResult r = decoder.decode(in, out, true);
    if (r.isError()) {
      out.flip();
      int line = 1;
      int column = 1;
      for (int i = 0; i < out.limit(); i++) {
        char c = out.get(i);
        if (c == '\n') {
          line++;
          column = 1;
        } else if (!Character.isLowSurrogate(c)) {
          column++;
        }
      }
      boolean utf16 =
          bytes.length >= 2
              && (((bytes[0] & 0xff) == 0xFF && (bytes[1] & 0xff) == 0xFE)
                  || ((bytes[0] & 0xff) == 0xFE && (bytes[1] & 0xff) == 0xFF));
      problems.add(
          new Location(displayName, line, column),
          String.format(
              "not valid UTF-8 (byte 0x%02X): " + "save the file as UTF-8 (%s)",
              bytes[in.position()] & 0xff,
              utf16
                  ? "it is UTF-16"
                  : "it looks like Latin-1, Windows-1252 or another 8-bit encoding"));
      return Optional.empty();
    }
    decoder.flush(out);
    out.flip();
    String text = out.toString();
    return Optional.of(text.startsWith("\uFEFF") ? text.substring(1) : text);
  }

  private static String tooLarge(long size) {
    return "file is "
        + size
        + " bytes; the limit is "
        + MAX_BYTES
        + " bytes (4 MiB) for a runbook or an inventory";
  }

  private static String reason(IOException e) {
    if (e instanceof AccessDeniedException) return "permission denied";
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
