package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.yaml.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code kubectl:} runs the host's {@code kubectl} against a Deployment, as the seed's Kubernetes
 * section does by hand: {@code set_image} (the rolling update), {@code rollout_status} (wait for
 * it, with a time-out), {@code rollout_undo} (back to the previous or a given revision) and {@code
 * get} (the object as JSON, to register). The engine talks to no API server itself: the host's
 * kubectl, kubeconfig and context decide where the commands go.
 *
 * <p>{@code set_image} reads the Deployment first and records its revision ({@code
 * deployment.kubernetes.io/revision}) and the container's image; its automatic undo is {@code
 * rollout undo --to-revision=<that revision>} followed by {@code rollout status}, so a failed
 * verify puts the Deployment back on the pods it had.
 */
public final class KubectlStep extends StepType<KubectlStep.Args> {
  static final Set<String> ACTIONS = Set.of("set_image", "rollout_status", "rollout_undo", "get");
  static final String REVISION = "deployment.kubernetes.io/revision";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param action set_image, rollout_status, rollout_undo or get
   * @param deployment the Deployment's name
   * @param container the container whose image set_image changes
   * @param image the new image (set_image)
   * @param namespace {@code -n}, else the context's namespace
   * @param context {@code --context}, else the kubeconfig's current context
   * @param kubeconfig {@code --kubeconfig}, a path on the host
   * @param timeout how long rollout_status waits ({@code --timeout}); default the step's time-out
   * @param toRevision the revision rollout_undo goes back to; default the previous one
   * @param resource what get reads, default {@code deployment/<deployment>}
   */
  public record Args(
      String action,
      String deployment,
      String container,
      String image,
      String namespace,
      String context,
      String kubeconfig,
      Object timeout,
      @JsonProperty("to_revision") Object toRevision,
      String resource) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {}

    /**
     * {@code kubectl [--kubeconfig K] [--context C] [-n NS]} followed by {@code more}, quoted for
     * sh.
     */
    String line(String... more) {
      List<String> argv = new ArrayList<>(List.of("kubectl"));
      if (kubeconfig != null) argv.addAll(List.of("--kubeconfig", kubeconfig));
      if (context != null) argv.addAll(List.of("--context", context));
      if (namespace != null) argv.addAll(List.of("-n", namespace));
      argv.addAll(List.of(more));
      return Shell.join(argv);
    }

    String target() {
      return "deployment/" + deployment;
    }
  }

  public KubectlStep() {
    super("kubectl", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    if (!ACTIONS.contains(String.valueOf(a.action()))) {
      problems.add("'action' must be one of set_image, rollout_status, rollout_undo, get");
      return problems;
    }
    boolean get = a.action().equals("get");
    if (!get && blank(a.deployment())) problems.add("'deployment' is required for " + a.action());
    if (get && blank(a.deployment()) && blank(a.resource()))
      problems.add("get needs 'deployment' or 'resource'");
    if (a.action().equals("set_image") && (blank(a.container()) || blank(a.image()))) {
      problems.add("set_image needs 'container' and 'image'");
    }
    if (!a.action().equals("set_image") && (a.container() != null || a.image() != null)) {
      problems.add("'container' and 'image' go with set_image");
    }
    if (a.timeout() != null && !a.action().equals("rollout_status"))
      problems.add("'timeout' goes with rollout_status");
    Duration wait = Durations.parse(a.timeout());
    if (a.timeout() != null && (wait == null || wait.toSeconds() < 1)) {
      problems.add("'timeout' must be a duration such as 120, 90s or 5m");
    }
    if (a.toRevision() != null && !a.action().equals("rollout_undo"))
      problems.add("'to_revision' goes with rollout_undo");
    if (a.toRevision() != null && !String.valueOf(a.toRevision()).matches("[1-9][0-9]*")) {
      problems.add("'to_revision' must be a revision number such as 3");
    }
    if (a.resource() != null && !get) problems.add("'resource' goes with get");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    return switch (a.action()) {
      case "set_image" -> setImage(a, ctx);
      case "rollout_status" ->
          rolloutStatus(a, ctx, a.timeout() == null ? ctx.timeout() : Durations.parse(a.timeout()));
      case "rollout_undo" ->
          run(
              ctx,
              a.toRevision() == null
                  ? a.line("rollout", "undo", a.target())
                  : a.line("rollout", "undo", a.target(), "--to-revision=" + a.toRevision()),
              "rollout undo of " + a.target());
      default -> get(a, ctx);
    };
  }

  private StepResult setImage(Args a, StepContext ctx) {
    StepResult before = get(a, ctx);
    if (before.failed()) return before;
    JsonNode dep = JSON.valueToTree(before.data().get("json"));
    String revision = dep.path("metadata").path("annotations").path(REVISION).asText("");
    List<String> names = new ArrayList<>();
    String previous = null;
    for (JsonNode c : dep.path("spec").path("template").path("spec").path("containers")) {
      names.add(c.path("name").asText());
      if (c.path("name").asText().equals(a.container())) previous = c.path("image").asText();
    }
    if (previous == null) {
      return StepResult.failed(
          a.target()
              + " has no container '"
              + a.container()
              + "' (it has: "
              + String.join(", ", names)
              + ")");
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("deployment", a.deployment());
    data.put("image", a.image());
    data.put("previous_image", previous);
    data.put("previous_revision", revision);
    if (previous.equals(a.image())) {
      return StepResult.ok(a.target() + " already runs " + a.image()).withData(data);
    }
    StepResult set =
        run(
            ctx,
            a.line("set", "image", a.target(), a.container() + "=" + a.image()),
            "set image on " + a.target());
    if (set.failed()) return set.withData(data);
    return set.withStatus(
            Status.CHANGED,
            a.container()
                + ": "
                + previous
                + " → "
                + a.image()
                + (revision.isEmpty() ? "" : " (was revision " + revision + ")"))
        .withData(data);
  }

  private static StepResult rolloutStatus(Args a, StepContext ctx, Duration wait) {
    String line = a.line("rollout", "status", a.target(), "--timeout=" + wait.toSeconds() + "s");
    // kubectl stops itself at --timeout; the transport's limit is only a backstop behind it.
    ExecResult r =
        ctx.transport()
            .exec(
                ExecRequest.builder(line)
                    .timeout(wait.plusSeconds(30))
                    .become(ctx.become())
                    .build());
    StepResult res = StepResult.fromExec(r).withData(Map.of("cmd", line));
    if (res.failed()) {
      String progress = lastLine(r.stdoutText());
      String why = r.timedOut() ? "kubectl did not return" : lastLine(r.stderrText());
      return res.withStatus(
          Status.FAILED,
          "rollout of "
              + a.target()
              + " did not complete (waited up to "
              + Durations.format(wait)
              + "): "
              + why
              + (progress.isEmpty() ? "" : " (last: " + progress + ")"));
    }
    return res.withStatus(Status.OK, lastLine(r.stdoutText()));
  }

  private static StepResult get(Args a, StepContext ctx) {
    String what = a.resource() != null ? a.resource() : a.target();
    ExecResult r = ctx.exec(a.line("get", what, "-o", "json"));
    StepResult res = result(r, a.line("get", what, "-o", "json"), "get " + what);
    if (res.failed()) return res;
    try {
      // The whole output, not the result's tail: a Deployment with its managedFields can pass 16
      // KiB.
      JsonNode json = JSON.readTree(r.stdoutText());
      return res.withStatus(Status.OK, "read " + what)
          .withData(Map.of("json", JSON.convertValue(json, Map.class)));
    } catch (Exception e) {
      return res.withStatus(
          Status.FAILED, "kubectl get " + what + " did not print JSON: " + excerpt(r.stdoutText()));
    }
  }

  /** One kubectl command; a failure says what failed and kubectl's last line of stderr. */
  private static StepResult run(StepContext ctx, String line, String what) {
    return result(ctx.exec(line), line, what);
  }

  private static StepResult result(ExecResult r, String line, String what) {
    StepResult res = StepResult.fromExec(r).withData(Map.of("cmd", line));
    if (!res.failed()) return res;
    String why =
        r.timedOut()
            ? "timed out after " + r.duration().toSeconds() + " s"
            : lastLine(r.stderrText());
    String hint = r.exitCode() == 127 ? " (is kubectl installed on the host and on its PATH?)" : "";
    return res.withStatus(
        Status.FAILED,
        what + " failed: " + (why.isEmpty() ? "exit code " + r.exitCode() : why) + hint);
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public boolean undoable(Args a) {
    return "set_image".equals(a.action());
  }

  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    if (!a.action().equals("set_image") || !result.changed()) return Optional.empty();
    String revision = String.valueOf(result.data().getOrDefault("previous_revision", ""));
    String undo =
        revision.isEmpty()
            ? a.line("rollout", "undo", a.target())
            : a.line("rollout", "undo", a.target(), "--to-revision=" + revision);
    return Optional.of(
        new Undo() {
          @Override
          public String description() {
            return "rollout undo "
                + a.target()
                + (revision.isEmpty() ? "" : " --to-revision=" + revision)
                + " (back to "
                + result.data().get("previous_image")
                + ")";
          }

          @Override
          public StepResult run(StepContext ctx) {
            StepResult r = KubectlStep.run(ctx, undo, "rollout undo of " + a.target());
            if (r.failed()) return r;
            StepResult done = rolloutStatus(a, ctx, ctx.timeout());
            return done.failed()
                ? done
                : done.withStatus(
                    Status.CHANGED,
                    a.target()
                        + " back at revision "
                        + (revision.isEmpty() ? "(previous)" : revision)
                        + ", "
                        + result.data().get("previous_image"));
          }
        });
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static String lastLine(String s) {
    String t = s == null ? "" : s.strip();
    int nl = t.lastIndexOf('\n');
    return nl < 0 ? t : t.substring(nl + 1).strip();
  }

  private static String excerpt(String s) {
    String t = s == null ? "" : s.strip().replaceAll("\\s+", " ");
    return t.isEmpty() ? "(nothing)" : t.length() > 120 ? t.substring(0, 117) + "..." : t;
  }
}
