package io.runbook.step;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.model.StepBinding;
import io.runbook.result.StepResult;
import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import io.runbook.yaml.YamlLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The table-driven cases of every step type: each file {@code CASES/<key>/<case>.yaml} gives
 * arguments and what must come of them, and this one runner checks it. The arguments go through the
 * engine's own binder (schema, binding, the step's {@code validate}); the step then runs against a
 * {@link RecordingTransport} that answers as the case says. A case holds:
 *
 * <pre>
 * args: ...                # the step's arguments, as in a runbook (already rendered)
 * vars: {name: value}      # optional: the step's variables
 * context: {timeout_seconds: 7, become: postgres}   # optional
 * answers:                 # optional: the host's answers in order, then exit 0 and no output
 *   - {rc: 1, stdout: "", stderr: "no such table"}
 *   - {timed_out: true}
 * problems: [...]          # the binder's problems (nothing runs); or else, each optional:
 * requests:                # exactly the commands sent, in order: a string, or a map of
 *   - "test -e .migrated"  #   command, chdir, env, stdin, timeout_seconds, become
 * result: {status: OK, rc: 0, stdout: ..., stderr: ..., message: ..., message_starts_with: ...}
 * data: {cmd: ...}         # entries the result's data holds
 * backups: [{dest, name, paths, volume}]   # what Step.backups says
 * probe: http://...        # what Step.probe says
 * </pre>
 *
 * A case that needs a real host, a real file or a daemon stays a plain test beside its step's.
 */
class StepCasesTest {
  static final Path CASES = Path.of("src/test/resources/io/runbook/steps");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> KEYS =
      Set.of(
          "args",
          "vars",
          "context",
          "answers",
          "problems",
          "requests",
          "result",
          "data",
          "backups",
          "probe");

  @TestFactory
  Stream<DynamicNode> everyCaseOfEveryStepType() throws Exception {
    List<DynamicNode> types = new ArrayList<>();
    for (Path dir : list(CASES)) {
      List<DynamicNode> cases = new ArrayList<>();
      for (Path file : list(dir)) {
        cases.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> run(dir, file)));
      }
      types.add(DynamicContainer.dynamicContainer(dir.getFileName().toString(), cases.stream()));
    }
    return types.stream();
  }

  /** A folder of cases belongs to a registered step type, and holds only cases. */
  @Test
  void everyCaseFolderNamesAStepType() throws Exception {
    Set<String> folders =
        list(CASES).stream()
            .map(p -> p.getFileName().toString())
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(folders).isNotEmpty();
    assertThat(StepRegistry.keys()).containsAll(folders);
    for (Path dir : list(CASES)) {
      assertThat(list(dir))
          .as(dir.toString())
          .isNotEmpty()
          .allMatch(p -> p.toString().endsWith(".yaml"));
    }
  }

  private static void run(Path dir, Path file) throws Exception {
    Step<?> step = StepRegistry.find(dir.getFileName().toString()).orElseThrow();
    Problems loading = new Problems();
    YamlDocument doc = YamlLoader.load(file, file.toString(), loading).orElse(null);
    assertThat(loading.sorted()).as("the case file reads").isEmpty();
    @SuppressWarnings("unchecked")
    Map<String, Object> c = (Map<String, Object>) doc.root();
    assertThat(KEYS).as("keys of a case").containsAll(c.keySet());
    assertThat(c).as("a case has args").containsKey("args");
    assertThat(c.keySet())
        .as("a case expects something")
        .containsAnyOf("problems", "requests", "result", "data", "backups", "probe");
    check(step, doc, c, file.getParent());
  }

  @SuppressWarnings("unchecked")
  private static <A> void check(Step<A> step, YamlDocument doc, Map<String, Object> c, Path dir)
      throws Exception {
    StepBinding.Bound<A> bound =
        StepBinding.bindRendered(step, c.get("args"), doc, "/args", "case");
    if (c.containsKey("problems")) {
      List<String> expected =
          ((List<Object>) c.get("problems")).stream().map(p -> "case: " + p).toList();
      assertThat(bound.problems()).as("problems").containsExactlyElementsOf(expected);
      return;
    }
    assertThat(bound.problems()).as("problems").isEmpty();
    A args = bound.args();
    if (c.containsKey("backups")) {
      assertThat(tree(step.backups(args))).as("backups").isEqualTo(tree(c.get("backups")));
    }
    if (c.containsKey("probe")) {
      assertThat(step.probe(args)).as("probe").contains((String) c.get("probe"));
    }
    if (!c.containsKey("requests") && !c.containsKey("result") && !c.containsKey("data")) return;

    RecordingTransport host = new RecordingTransport();
    for (Object a : (List<Object>) c.getOrDefault("answers", List.of()))
      host.answer(answer((Map<String, Object>) a));
    FakeContext ctx = new FakeContext(host, dir);
    ((Map<String, Object>) c.getOrDefault("vars", Map.of())).forEach(ctx::with);
    Map<String, Object> context = (Map<String, Object>) c.getOrDefault("context", Map.of());
    if (context.get("timeout_seconds") != null)
      ctx.timeout = Duration.ofSeconds(((Number) context.get("timeout_seconds")).longValue());
    if (context.get("become") != null) ctx.become = Become.as((String) context.get("become"));

    StepResult r = step.execute(args, ctx);

    if (c.containsKey("requests")) {
      List<Object> expected = (List<Object>) c.get("requests");
      assertThat(host.commands()).as("commands sent").hasSize(expected.size());
      for (int i = 0; i < expected.size(); i++) request(host.requests.get(i), expected.get(i), i);
    }
    if (c.containsKey("result")) {
      Map<String, Object> want = (Map<String, Object>) c.get("result");
      for (Map.Entry<String, Object> e : want.entrySet()) {
        switch (e.getKey()) {
          case "status" ->
              assertThat(String.valueOf(r.status())).as("status; " + r).isEqualTo(e.getValue());
          case "rc" ->
              assertThat(r.rc())
                  .as("rc")
                  .isEqualTo(e.getValue() == null ? null : ((Number) e.getValue()).intValue());
          case "stdout" -> assertThat(r.stdout()).as("stdout").isEqualTo(e.getValue());
          case "stderr" -> assertThat(r.stderr()).as("stderr").isEqualTo(e.getValue());
          case "message" -> assertThat(r.message()).as("message").isEqualTo(e.getValue());
          case "message_starts_with" ->
              assertThat(r.message()).as("message").startsWith((String) e.getValue());
          default -> throw new AssertionError("unknown key of result: " + e.getKey());
        }
      }
    }
    if (c.containsKey("data")) {
      Map<String, Object> want = (Map<String, Object>) c.get("data");
      for (Map.Entry<String, Object> e : want.entrySet()) {
        assertThat(r.data()).as("data").containsKey(e.getKey());
        assertThat(tree(r.data().get(e.getKey())))
            .as("data." + e.getKey())
            .isEqualTo(tree(e.getValue()));
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static void request(ExecRequest sent, Object expected, int i) {
    String at = "request #" + (i + 1);
    if (expected instanceof String command) {
      assertThat(sent.command()).as(at).isEqualTo(command);
      return;
    }
    for (Map.Entry<String, Object> e : ((Map<String, Object>) expected).entrySet()) {
      Object want = e.getValue();
      switch (e.getKey()) {
        case "command" -> assertThat(sent.command()).as(at + " command").isEqualTo(want);
        case "chdir" -> assertThat(sent.chdir()).as(at + " chdir").isEqualTo(want);
        case "env" -> assertThat(tree(sent.env())).as(at + " env").isEqualTo(tree(want));
        case "stdin" ->
            assertThat(
                    sent.stdin() == null ? null : new String(sent.stdin(), StandardCharsets.UTF_8))
                .as(at + " stdin")
                .isEqualTo(want);
        case "timeout_seconds" ->
            assertThat(sent.timeout())
                .as(at + " timeout")
                .isEqualTo(Duration.ofSeconds(((Number) want).longValue()));
        case "become" ->
            assertThat(sent.become())
                .as(at + " become")
                .isEqualTo(want == null ? Become.NONE : Become.as((String) want));
        default -> throw new AssertionError("unknown key of a request: " + e.getKey());
      }
    }
  }

  private static ExecResult answer(Map<String, Object> a) {
    if (Boolean.TRUE.equals(a.get("timed_out"))) return RecordingTransport.timedOut();
    int rc = a.get("rc") == null ? 0 : ((Number) a.get("rc")).intValue();
    return RecordingTransport.result(
        rc, (String) a.getOrDefault("stdout", ""), (String) a.getOrDefault("stderr", ""));
  }

  /** Numbers compare by value whether YAML made them a Long or the step an Integer. */
  private static JsonNode tree(Object value) {
    try {
      return JSON.readTree(JSON.writeValueAsString(value));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static List<Path> list(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }
}
