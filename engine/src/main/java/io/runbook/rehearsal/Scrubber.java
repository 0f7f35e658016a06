package io.runbook.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Production's secret values out of the files seeded into a rehearsal host: replacing the variables
 * is not enough when production's config files (and the backups holding them) carry the same
 * values. Every text file under the seeded paths, and every member of every {@code .tar.gz} there
 * (a backup; its {@code SHA256SUMS} lines are recomputed), gets each production value replaced by
 * the generated value the rehearsal inventory gives the same variable, so the copy's config still
 * agrees with its inventory. Runs {@code scrub.py} with the rehearsal host's python3; the values go
 * on stdin, never on a command line.
 */
final class Scrubber {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Shorter values would match ordinary text (a port, "true"): such variables are replaced, not
   * searched for.
   */
  static final int MIN_LENGTH = 6;

  private Scrubber() {}

  /**
   * What was rewritten: files (an archive counts once) and archive members as {@code
   * archive:member}.
   */
  record Result(List<String> files, List<String> members) {}

  /**
   * Production value → generated value, for each replaced variable with a string value long enough
   * to search for.
   */
  static Map<String, String> pairs(
      Map<String, Object> production, Secrets.Redacted redacted, List<String> names) {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (String name : names) {
      Object old = production.get(name);
      if (old == null || old instanceof Number || old instanceof Boolean) continue;
      String o = String.valueOf(old);
      if (o.length() >= MIN_LENGTH) pairs.put(o, String.valueOf(redacted.vars().get(name)));
    }
    return pairs;
  }

  static Result scrub(Transport root, List<String> paths, Map<String, String> pairs) {
    if (paths.isEmpty() || pairs.isEmpty()) return new Result(List.of(), List.of());
    List<List<String>> list = new ArrayList<>();
    pairs.forEach((o, n) -> list.add(List.of(o, n)));
    byte[] request;
    try {
      request = JSON.writeValueAsBytes(Map.of("paths", paths, "pairs", list));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ExecResult r =
        root.exec(
            ExecRequest.builder(
                    "command -v python3 >/dev/null || { echo 'the rehearsal image has no"
                        + " python3, which replacing secret values in the seeded files needs' >&2; exit 3; }; python3 -c "
                        + Shell.quote(script()))
                .stdin(request)
                .timeout(Duration.ofMinutes(10))
                .build());
    if (r.exitCode() != 0) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          root.describe()
              + ": cannot replace production's secret values"
              + " in the seeded files, so the rehearsal stops here: "
              + r.stderrText().strip());
    }
    try {
      JsonNode n = JSON.readTree(r.stdoutText());
      List<String> files = new ArrayList<>();
      n.path("files").forEach(f -> files.add(f.asText()));
      List<String> members = new ArrayList<>();
      n.path("members").forEach(m -> members.add(m.asText()));
      return new Result(files, members);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          root.describe() + ": unreadable answer of the secret scrub: " + r.stdoutText().strip());
    }
  }

  private static String script() {
    try (InputStream in = Scrubber.class.getResourceAsStream("scrub.py")) {
      if (in == null) throw new IllegalStateException("scrub.py is missing from the jar");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
