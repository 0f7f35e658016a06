package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The secrets {@code rehearsal.redact} names by where they sit ({@code {file, keys}}): read from
 * the seeded copy of each file (production's contents, read on the copy, so production sees no
 * extra command), so that {@link Scrubber} replaces each value wherever it occurs in the copy — the
 * file itself, other files, and backups inside archives. What could not be found is said, never
 * silently skipped.
 */
final class KeyedSecrets {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BYTES = 4 * 1024 * 1024;

  private KeyedSecrets() {}

  /**
   * @param pairs production value → generated value
   * @param replaced {@code file:key} of every value found
   * @param warnings what was named but not found (or is too short to search for)
   */
  record Found(Map<String, String> pairs, List<String> replaced, List<String> warnings) {}

  static Found read(Transport root, List<RehearsalSpec.RedactKey> keys) {
    Map<String, String> pairs = new LinkedHashMap<>();
    List<String> replaced = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (RehearsalSpec.RedactKey k : keys) {
      ExecResult r =
          root.exec(
              ExecRequest.builder(
                      "f="
                          + Shell.quote(k.file())
                          + "; [ -f \"$f\" ] || exit 3; "
                          + "[ \"$(stat -c %s \"$f\")\" -le "
                          + MAX_BYTES
                          + " ] || exit 4; cat -- \"$f\"")
                  .timeout(Duration.ofMinutes(1))
                  .build());
      if (r.exitCode() != 0) {
        warnings.add(
            "rehearsal.redact: "
                + k.file()
                + (r.exitCode() == 3
                    ? " is not on the copy (not seeded, not in a restored backup)"
                    : r.exitCode() == 4
                        ? " is larger than 4 MiB: not read"
                        : " cannot be read: " + r.stderrText().strip())
                + "; its keys "
                + k.keys()
                + " were not looked for");
        continue;
      }
      Object doc;
      try {
        doc = parse(k.file(), r.stdoutText());
      } catch (RuntimeException | IOException e) {
        warnings.add(
            "rehearsal.redact: "
                + k.file()
                + " is neither JSON nor YAML ("
                + e.getClass().getSimpleName()
                + "); its keys "
                + k.keys()
                + " were not looked for");
        continue;
      }
      for (String key : k.keys()) {
        Object v = at(doc, key);
        if (v == null || v instanceof Map<?, ?> || v instanceof List<?>) {
          warnings.add("rehearsal.redact: " + k.file() + " has no value at " + key);
          continue;
        }
        String value = String.valueOf(v);
        if (value.length() < Scrubber.MIN_LENGTH) {
          warnings.add(
              "rehearsal.redact: "
                  + k.file()
                  + ":"
                  + key
                  + " is shorter than "
                  + Scrubber.MIN_LENGTH
                  + " characters, too short to replace safely by searching: it is NOT replaced on the copy");
          continue;
        }
        pairs.computeIfAbsent(value, x -> String.valueOf(Secrets.generated(x)));
        replaced.add(k.file() + ":" + key);
      }
    }
    return new Found(pairs, replaced, warnings);
  }

  static Object parse(String file, String text) throws IOException {
    if (file.endsWith(".json")) return JSON.readValue(text, Object.class);
    return new Load(LoadSettings.builder().setMaxAliasesForCollections(100).build())
        .loadFromString(text);
  }

  /** The value at a dotted path; numbers index lists. Null when the path does not lead to one. */
  static Object at(Object doc, String path) {
    Object cur = doc;
    for (String part : path.split("\\.", -1)) {
      if (cur instanceof Map<?, ?> m) {
        cur = m.get(part);
      } else if (cur instanceof List<?> l
          && part.matches("[0-9]+")
          && Integer.parseInt(part) < l.size()) {
        cur = l.get(Integer.parseInt(part));
      } else {
        return null;
      }
    }
    return cur;
  }
}
