package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One line of a run's private undo state ({@link JournalWriter#PRIVATE_FILE}, readable by its owner
 * only): the values a step's automatic undo needs that must not enter the journal (the bytes a
 * {@code copy} replaced, which may be secrets).
 *
 * @param index the forward step's index in the host's plan
 * @param checkpoint true when the step wrote it <em>before</em> changing the host, so that a step
 *     whose controller died in the middle can still be undone; false for a completed step's result
 *     data
 * @param iteration the 1-based item of a looped step, 0 when the step is not looped
 */
@JsonInclude(JsonInclude.Include.NON_DEFAULT)
public record UndoState(
    String host, int index, boolean checkpoint, Map<String, Object> data, int iteration) {

  public UndoState(String host, int index, boolean checkpoint, Map<String, Object> data) {
    this(host, index, checkpoint, data, 0);
  }

  /** Every readable line of the file; a line cut short by a dying controller is left out. */
  public static List<UndoState> read(Path file) {
    List<UndoState> out = new ArrayList<>();
    if (!Files.exists(file)) return out;
    String text;
    try {
      text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INTERNAL, "cannot read " + file + ": " + e.getMessage(), e);
    }
    for (String line : text.lines().toList()) {
      if (line.isBlank()) continue;
      try {
        out.add(EventJson.MAPPER.readValue(line, UndoState.class));
      } catch (IOException cutShort) {
        // the controller died while writing it: that step's undo falls back to its handlers
      }
    }
    return out;
  }
}
