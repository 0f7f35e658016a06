package io.runbook.secret;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.PrivateFiles;
import io.runbook.RunbookException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code -e} values the journal shows masked, kept beside it in {@value #FILE} (0600) so that
 * {@code resume} and {@code rollback} plan the run again with the real values.
 */
public final class SecretsFile {
  public static final String FILE = "secrets.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private SecretsFile() {}

  /**
   * Writes the entries of {@code extraVars} that {@code redactor} masks; nothing when there are
   * none.
   */
  public static void write(Path runDir, Map<String, Object> extraVars, Redactor redactor) {
    Map<String, Object> hidden = new LinkedHashMap<>();
    extraVars.forEach(
        (k, v) -> {
          if (!Objects.equals(redactor.value(v), v)) hidden.put(k, v);
        });
    if (hidden.isEmpty()) return;
    try {
      PrivateFiles.write(runDir.resolve(FILE), JSON.writeValueAsString(hidden) + "\n");
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL,
          "cannot keep the run's secret -e values in "
              + runDir
              + ": "
              + e.getMessage()
              + " (check that the state directory is writable)",
          e);
    }
  }

  /** {@code extraVars} as the journal holds them, with the values {@link #write} kept put back. */
  public static Map<String, Object> restore(Path runDir, Map<String, Object> extraVars) {
    Map<String, Object> out = new LinkedHashMap<>(extraVars);
    Path f = runDir.resolve(FILE);
    if (!Files.isRegularFile(f)) return out;
    try {
      out.putAll(JSON.readValue(f.toFile(), new TypeReference<Map<String, Object>>() {}));
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "cannot read "
              + f
              + ": "
              + e.getMessage()
              + " (the run's secret -e values; without them it cannot be planned again)",
          e);
    }
    return out;
  }
}
