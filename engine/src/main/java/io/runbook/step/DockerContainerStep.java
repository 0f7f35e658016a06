package io.runbook.step;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.runbook.docker.DockerEngine;
import io.runbook.docker.DockerEngine.ContainerInfo;
import io.runbook.docker.DockerEngine.Mount;
import io.runbook.docker.DockerEngine.Recreated;
import io.runbook.docker.DockerEngine.RunResult;
import io.runbook.docker.DockerJavaEngine;
import io.runbook.result.Status;
import io.runbook.result.StepResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code docker_container:} stops, starts or recreates a container on the host's Docker daemon.
 * {@code recreate} replaces it by one from a new image with the old one's configuration and keeps
 * the old one, stopped, as {@code <name>.runbook-prev}; its undo removes the new container and
 * brings the old one back under its name (and starts it if it ran). {@code cleanup} removes the
 * kept container once the upgrade is verified. {@code stop} and {@code start} undo each other.
 * {@code run} runs a one-off container to its end (e.g. the new release's migration on the data
 * volume) and removes it.
 */
public final class DockerContainerStep extends StepType<DockerContainerStep.Args> {

  /**
   * The step's arguments, as the runbook gives them (bound after rendering).
   *
   * @param action stop, start, recreate or cleanup
   * @param name the container's name
   * @param image for recreate: the new image (on the host already; pull it first)
   * @param stopTimeout seconds a stop waits before killing, default 10
   * @param command for run: the command, an argv list
   * @param volumes for run: mounts "VOLUME_OR_ABS_PATH:/target[:ro]"
   */
  public record Args(
      String action,
      String name,
      String image,
      @JsonProperty("stop_timeout") Integer stopTimeout,
      List<String> command,
      List<String> volumes) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Args {
      stopTimeout = stopTimeout == null ? 10 : stopTimeout;
      command = command == null ? List.of() : List.copyOf(command);
      volumes = volumes == null ? List.of() : List.copyOf(volumes);
    }
  }

  public DockerContainerStep() {
    super("docker_container", Args.class);
  }

  @Override
  public List<String> validate(Args a) {
    List<String> problems = new ArrayList<>();
    String action = a.action() == null ? "" : a.action();
    if (!List.of("stop", "start", "recreate", "cleanup", "run").contains(action)) {
      problems.add("action '" + action + "' is not one of stop, start, recreate, cleanup, run");
    }
    if (action.equals("run")) {
      if (a.image() == null || a.command().isEmpty())
        problems.add("'run' needs 'image' and 'command'");
      for (String v : a.volumes()) {
        if (!v.matches("[^:]+:/[^:]*(:ro|:rw)?"))
          problems.add("volume '" + v + "' is not VOLUME_OR_ABS_PATH:/target[:ro]");
      }
    } else {
      if (a.name() == null || a.name().isBlank()) problems.add("'name' (the container) is missing");
      if (!a.command().isEmpty() || !a.volumes().isEmpty())
        problems.add("'command' and 'volumes' go with action run");
    }
    if (action.equals("recreate") && a.image() == null)
      problems.add("'recreate' needs 'image', the new image");
    if (!action.equals("recreate") && !action.equals("run") && a.image() != null)
      problems.add("'image' goes with action recreate or run");
    if (a.stopTimeout() < 0) problems.add("stop_timeout must be 0 or more seconds");
    return problems;
  }

  @Override
  public StepResult execute(Args a, StepContext ctx) {
    List<String> problems = validate(a);
    if (!problems.isEmpty()) return StepResult.failed(String.join("; ", problems));
    DockerEngine docker = ctx.docker();
    Map<String, Object> data = new LinkedHashMap<>();
    if (a.action().equals("run")) return run(a, ctx, docker);
    data.put("name", a.name());
    switch (a.action()) {
      case "stop", "start" -> {
        ContainerInfo c = docker.container(a.name()).orElse(null);
        if (c == null)
          return StepResult.failed(
              ctx.hostName()
                  + ": no container "
                  + a.name()
                  + " (docker ps -a on the host lists them)");
        data.put("id", c.id());
        data.put("image", c.image());
        data.put("image_id", c.imageId());
        // Only a stop of a running container (a start of a stopped one) changes anything: journal
        // its undo first.
        if (c.running() == a.action().equals("stop")) ctx.checkpoint(data);
        boolean did =
            a.action().equals("stop")
                ? docker.stop(a.name(), a.stopTimeout())
                : docker.start(a.name());
        String verb = a.action().equals("stop") ? "stopped" : "started";
        return (did
                ? StepResult.changed(verb + " " + a.name())
                : StepResult.ok(a.name() + " was already " + verb))
            .withData(data);
      }
      case "recreate" -> {
        ContainerInfo c = docker.container(a.name()).orElse(null);
        if (c == null)
          return StepResult.failed(
              ctx.hostName()
                  + ": no container "
                  + a.name()
                  + " to recreate (docker ps -a on the host lists them)");
        Optional<String> newId = docker.imageId(a.image());
        if (newId.isEmpty()) {
          return StepResult.failed(
              ctx.hostName()
                  + ": cannot recreate "
                  + a.name()
                  + " from "
                  + a.image()
                  + ": the host has no such image (pull it first with docker_image)");
        }
        if (newId.get().equals(c.imageId()) && c.image().equals(a.image())) {
          data.put("id", c.id());
          data.put("image", c.image());
          data.put("image_id", c.imageId());
          return StepResult.ok(a.name() + " already runs " + a.image()).withData(data);
        }
        Recreated r = docker.recreate(a.name(), a.image(), a.stopTimeout());
        data.put("id", r.newId());
        data.put("image", a.image());
        data.put("image_id", r.newImageId());
        data.put("previous_container", r.previousName());
        data.put("previous_image", r.previousImage());
        data.put("previous_image_id", r.previousImageId());
        data.put("was_running", r.wasRunning());
        return StepResult.changed(
                "recreated "
                    + a.name()
                    + " from "
                    + a.image()
                    + " (was "
                    + r.previousImage()
                    + "; the old container is kept as "
                    + r.previousName()
                    + " until cleanup)")
            .withData(data);
      }
      default -> {
        String previous = a.name() + DockerJavaEngine.PREVIOUS_SUFFIX;
        data.put("previous_container", previous);
        return (docker.removeContainer(previous)
                ? StepResult.changed("removed " + previous)
                : StepResult.ok("no " + previous + " to remove"))
            .withData(data);
      }
    }
  }

  private static StepResult run(Args a, StepContext ctx, DockerEngine docker) {
    List<Mount> mounts = new ArrayList<>();
    for (String v : a.volumes()) {
      String[] p = v.split(":", -1);
      mounts.add(
          p[0].startsWith("/")
              ? Mount.hostDir(p[0], p[1], p.length > 2 && p[2].equals("ro"))
              : Mount.volume(p[0], p[1], p.length > 2 && p[2].equals("ro")));
    }
    RunResult r = docker.run(a.image(), a.command(), mounts, ctx.timeout());
    StepResult base =
        new StepResult(
            r.exitCode() == 0 ? Status.CHANGED : Status.FAILED,
            r.exitCode(),
            r.output(),
            null,
            null,
            Map.of("image", a.image()),
            0,
            1);
    String out = r.output().strip();
    String last = out.isEmpty() ? "" : ": " + out.substring(out.lastIndexOf('\n') + 1);
    return r.exitCode() == 0
        ? base.withStatus(
            Status.CHANGED, "ran " + String.join(" ", a.command()) + " in " + a.image())
        : base.withStatus(
            Status.FAILED,
            ctx.hostName()
                + ": "
                + String.join(" ", a.command())
                + " in "
                + a.image()
                + " exited "
                + r.exitCode()
                + last);
  }

  @Override
  public boolean undoable() {
    return true;
  }

  @Override
  public boolean undoable(Args a) {
    return a.action() == null || List.of("stop", "start", "recreate").contains(a.action());
  }

  @Override
  public Optional<Undo> undo(Args a, StepResult result) {
    if (!result.changed()) return Optional.empty();
    String name = a.name();
    return switch (a.action()) {
      case "stop" ->
          Optional.of(
              undo(
                  "start " + name,
                  ctx -> {
                    ctx.docker().start(name);
                    return StepResult.changed("started " + name);
                  }));
      case "start" ->
          Optional.of(
              undo(
                  "stop " + name,
                  ctx -> {
                    ctx.docker().stop(name, a.stopTimeout());
                    return StepResult.changed("stopped " + name);
                  }));
      case "recreate" -> {
        String previous = (String) result.data().get("previous_container");
        boolean wasRunning = Boolean.TRUE.equals(result.data().get("was_running"));
        yield Optional.of(
            undo(
                "bring back "
                    + name
                    + " from "
                    + result.data().get("previous_image")
                    + " (remove the new container, rename "
                    + previous
                    + " back)",
                ctx -> {
                  DockerEngine docker = ctx.docker();
                  if (docker.container(previous).isEmpty()) {
                    return StepResult.failed(
                        ctx.hostName()
                            + ": cannot bring back "
                            + name
                            + ": the kept container "
                            + previous
                            + " is gone (a cleanup removed it?); recreate "
                            + name
                            + " from "
                            + result.data().get("previous_image")
                            + " by hand");
                  }
                  docker.removeContainer(name);
                  docker.rename(previous, name);
                  if (wasRunning) docker.start(name);
                  return StepResult.changed(
                      name + " runs " + result.data().get("previous_image") + " again");
                }));
      }
      default -> Optional.empty();
    };
  }

  private interface Action {
    StepResult run(StepContext ctx);
  }

  private static Undo undo(String description, Action action) {
    return new Undo() {
      @Override
      public String description() {
        return description;
      }

      @Override
      public StepResult run(StepContext ctx) {
        return action.run(ctx);
      }
    };
  }
}
