package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.runbook.docker.DockerEngine;
import io.runbook.docker.DockerEngine.Pulled;
import io.runbook.docker.DockerEngine.RegistryAuth;
import io.runbook.docker.ImageInUseException;
import io.runbook.result.StepResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code docker_image:} pulls, tags, removes and prunes images on the host's Docker daemon. A pull
 * is undone by putting the name back on the image it named before (or removing it if it named
 * none); a tag likewise. Removing and pruning cannot be undone.
 */
public final class DockerImageStep extends StepType<DockerImageStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param action pull, tag, remove or prune
   * @param image the image to pull or remove, or the source of a tag
   * @param target for tag: the new name, "repo:tag"
   * @param auth for pull: registry credentials
   * @param force for remove: also when containers use it
   * @param all for prune: every unused image, not only dangling ones
   */
  public record Args(
      String action, String image, String target, Auth auth, Boolean force, Boolean all) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      force = force != null && force;
      all = all != null && all;
    }
  }

  /** Registry credentials; {@code registry} defaults to the image's registry. */
  public record Auth(String username, String password, String registry) {}

  public DockerImageStep() {
    super("docker_image", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    String action = a.action() == null ? "" : a.action();
    switch (action) {
      case "pull", "remove" -> {
        if (a.image() == null) problems.add("'" + action + "' needs 'image'");
      }
      case "tag" -> {
        if (a.image() == null || a.target() == null)
          problems.add("'tag' needs 'image' (the source) and 'target' (the new name)");
      }
      case "prune" -> {
        if (a.image() != null)
          problems.add(
              "'prune' takes no 'image'; it removes every unused image ('all: true') or the dangling ones");
      }
      default -> problems.add("action '" + action + "' is not one of pull, tag, remove, prune");
    }
    if (a.auth() != null && !action.equals("pull")) problems.add("'auth' goes with action pull");
    if (a.target() != null && !action.equals("tag")) problems.add("'target' goes with action tag");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    DockerEngine docker = ctx.docker();
    Map<String, Object> data = new LinkedHashMap<>();
    switch (a.action()) {
      case "pull" -> {
        RegistryAuth auth =
            a.auth() == null
                ? null
                : new RegistryAuth(a.auth().username(), a.auth().password(), a.auth().registry());
        // What the name pointed at before: the undo of a pull cut short by a dying controller puts
        // it back.
        ctx.checkpoint(checkpoint(a.image(), docker.imageId(a.image()).orElse(null)));
        Pulled p = docker.pull(a.image(), auth, ctx.timeout());
        data.put("image", a.image());
        data.put("image_id", p.imageId());
        data.put("digest", p.digest());
        data.put("previous_image_id", p.previousImageId());
        String msg =
            (p.changed() ? "pulled " : "already up to date: ")
                + a.image()
                + " ("
                + shortId(p.imageId())
                + ")";
        return (p.changed() ? StepResult.changed(msg) : StepResult.ok(msg)).withData(data);
      }
      case "tag" -> {
        String source = docker.imageId(a.image()).orElse(null);
        if (source == null)
          return StepResult.failed(
              ctx.hostName()
                  + ": cannot tag "
                  + a.image()
                  + ": the host has no such image (pull it first)");
        String before = docker.imageId(a.target()).orElse(null);
        data.put("image", a.target());
        data.put("image_id", source);
        data.put("previous_image_id", before);
        if (source.equals(before))
          return StepResult.ok(a.target() + " already names " + shortId(source)).withData(data);
        ctx.checkpoint(data);
        docker.tag(source, a.target());
        return StepResult.changed(
                "tagged " + a.image() + " (" + shortId(source) + ") as " + a.target())
            .withData(data);
      }
      case "remove" -> {
        String before = docker.imageId(a.image()).orElse(null);
        data.put("image", a.image());
        data.put("image_id", before);
        if (before == null || !docker.removeImage(a.image(), a.force()))
          return StepResult.ok("no image " + a.image()).withData(data);
        return StepResult.changed("removed " + a.image() + " (" + shortId(before) + ")")
            .withData(data);
      }
      default -> {
        long bytes = docker.pruneImages(a.all());
        data.put("reclaimed_bytes", bytes);
        return (bytes > 0
                ? StepResult.changed("pruned images: " + bytes / (1024 * 1024) + " MiB reclaimed")
                : StepResult.ok("no unused images"))
            .withData(data);
      }
    }
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public boolean undoable(Args a) {
    return a.action() == null || List.of("pull", "tag").contains(a.action());
  }

  /** After pull or tag: the name goes back to the image it named before, or is removed. */
  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    if (!result.changed() || !(a.action().equals("pull") || a.action().equals("tag")))
      return Optional.empty();
    String name = (String) result.data().get("image");
    String previous = (String) result.data().get("previous_image_id");
    String description =
        previous == null
            ? "remove the image name " + name
            : "point " + name + " back at " + shortId(previous);
    return Optional.of(
        new Undo() {
          @Override
          public String description() {
            return description;
          }

          @Override
          public StepResult run(StepContext ctx) {
            DockerEngine docker = ctx.docker();
            if (previous == null) {
              try {
                docker.removeImage(name, false);
              } catch (ImageInUseException e) {
                // Forcing would delete the image under that container, which a later `compose up`
                // still reads.
                return StepResult.ok(
                    "kept the image name "
                        + name
                        + ": a container uses it; a cleanup's prune removes it once unused");
              }
              return StepResult.changed("removed the image name " + name);
            }
            docker.tag(previous, name);
            return StepResult.changed(name + " names " + shortId(previous) + " again");
          }
        });
  }

  private static Map<String, Object> checkpoint(String image, String previousImageId) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("image", image);
    m.put("previous_image_id", previousImageId);
    return m;
  }

  static String shortId(String id) {
    if (id == null) return "none";
    String s = id.startsWith("sha256:") ? id.substring(7) : id;
    return s.substring(0, Math.min(12, s.length()));
  }
}
