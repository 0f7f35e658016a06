package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.event.StepFinished;
import io.runbook.event.StepStarted;
import io.runbook.model.Phase;
import io.runbook.model.StepSpec;
import io.runbook.result.StepResult;
import io.runbook.step.Step;
import io.runbook.step.StepContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The step events of every kind of step, as the journal, the console and resume read them: one
 * factory builds them all, so a field it fills wrongly would change every journal line.
 */
class StepEventsTest {

  private static PlannedStep step(Phase phase, int index, String name) {
    StepSpec spec =
        new StepSpec(
            name, "command", Map.of(), null, "out", 0, null, null, null, null, null, null, null,
            false, false, null, null, null, null, null, "pkg");
    return new PlannedStep(phase, index, name, spec, null, null, List.of(), true);
  }

  @Test
  void aStepThatIsNotLoopedHasNoItem() {
    StepEvents e =
        StepEvents.of("app1", step(Phase.DEPLOY, 3, "Swap"), "Swap", false, null, null, 0, null);
    StepStarted s = e.started();
    assertThat(s)
        .extracting(
            StepStarted::host,
            StepStarted::phase,
            StepStarted::index,
            StepStarted::name,
            StepStarted::type,
            StepStarted::rollback,
            StepStarted::forStep,
            StepStarted::undo,
            StepStarted::iteration,
            StepStarted::delegate)
        .containsExactly("app1", "deploy", 3, "Swap", "command", false, null, null, null, null);
    StepFinished f = e.finished("out", StepResult.ok("done"));
    assertThat(f.iteration()).isNull();
    assertThat(f.register()).isEqualTo("out");
    assertThat(f.result().message()).isEqualTo("done");
    assertThat(f.loopSummary()).isFalse();
  }

  @Test
  void aDelegatedHandlerItemCarriesItsItemUndoKeyAndDelegate() {
    StepEvents e =
        StepEvents.of(
            "app1",
            step(Phase.ROLLBACK, 5, "Unseed"),
            "Unseed (pkg=a)",
            true,
            "Seed",
            "3:1.2",
            2,
            "lb");
    StepFinished f = e.finished(null, StepResult.changed("gone"));
    assertThat(f)
        .extracting(
            StepFinished::phase,
            StepFinished::index,
            StepFinished::name,
            StepFinished::rollback,
            StepFinished::forStep,
            StepFinished::undo,
            StepFinished::iteration,
            StepFinished::delegate,
            StepFinished::where)
        .containsExactly(
            "rollback", 5, "Unseed (pkg=a)", true, "Seed", "3:1.2", 2, "lb", "app1 → lb");
    assertThat(e.started().iteration()).isEqualTo(2);
  }

  @Test
  void anAutomaticUndoIsShownByWhatItDoesUnderItsStepsPhaseWithNoIndex() {
    Step.Undo undo =
        new Step.Undo() {
          @Override
          public String description() {
            return "remove /opt/app/releases/2.0";
          }

          @Override
          public StepResult run(StepContext context) {
            return StepResult.changed("removed");
          }
        };
    PlannedStep forward = step(Phase.PULL, 4, "Fetch");
    RollbackStack.Entry entry =
        new RollbackStack.Entry(forward, List.of(), undo, Map.of("pkg", "a"), 2);
    StepEvents e = StepEvents.ofUndo("app1", entry, null);
    StepStarted s = e.started();
    assertThat(s)
        .extracting(
            StepStarted::phase,
            StepStarted::index,
            StepStarted::name,
            StepStarted::type,
            StepStarted::rollback,
            StepStarted::forStep,
            StepStarted::undo,
            StepStarted::iteration)
        .containsExactly(
            "pull",
            0,
            "remove /opt/app/releases/2.0",
            "command",
            true,
            "Fetch (pkg=a)",
            "4.2:auto",
            2);
    assertThat(e.finished(null, StepResult.changed("removed")).register()).isNull();
  }

  @Test
  void theEndOfALoopedStepIsItsSummaryNotAnItem() {
    StepFinished f =
        StepEvents.of("app1", step(Phase.BACKUP, 2, "Copy"), "Copy", false, null, null, 0, null)
            .loopFinished("out", StepResult.ok(null));
    assertThat(f.iteration()).isZero();
    assertThat(f.loopSummary()).isTrue();
    assertThat(f.undo()).isNull();
    assertThat(f.delegate()).isNull();
  }
}
