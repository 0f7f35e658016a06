package io.runbook.step;

import io.runbook.docker.DockerEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Docker daemon in memory for step tests: image names pointing at ids, containers with an image
 * and a running flag; every call is recorded as one line ("tag sha256:old sampled:1"). Throwaway
 * runs answer with {@link #runAnswer}.
 */
class RecordingDocker implements DockerEngine {
  final List<String> calls = new ArrayList<>();
  final Map<String, String> images = new HashMap<>();
  final Map<String, ContainerInfo> containers = new LinkedHashMap<>();
  final List<List<Mount>> runMounts = new ArrayList<>();
  final List<List<String>> runCommands = new ArrayList<>();
  final Set<String> volumes = new HashSet<>();

  /** Image ids the daemon still has, named or not (a pull leaves the old image dangling). */
  final Set<String> ids = new HashSet<>();

  RunResult runAnswer = new RunResult(0, "");
  String pullYields;

  RecordingDocker image(String name, String id) {
    images.put(name, id);
    ids.add(id);
    return this;
  }

  RecordingDocker container(String name, String image, boolean running) {
    containers.put(
        name,
        new ContainerInfo(
            "id-" + name,
            name,
            image,
            images.get(image),
            running,
            running ? "running" : "exited",
            Map.of()));
    return this;
  }

  @Override
  public Optional<String> imageId(String image) {
    return Optional.ofNullable(images.getOrDefault(image, ids.contains(image) ? image : null));
  }

  @Override
  public Pulled pull(String image, RegistryAuth auth, Duration timeout) {
    calls.add("pull " + image + (auth == null ? "" : " as " + auth.username()));
    String before = images.get(image);
    images.put(image, pullYields);
    ids.add(pullYields);
    return new Pulled(image, pullYields, "sha256:digest", !pullYields.equals(before), before);
  }

  @Override
  public void tag(String source, String target) {
    calls.add("tag " + source + " " + target);
    images.put(target, imageId(source).orElseThrow());
  }

  @Override
  public boolean removeImage(String image, boolean force) {
    calls.add("rmi " + image);
    return images.remove(image) != null;
  }

  @Override
  public long pruneImages(boolean all) {
    calls.add("prune " + all);
    return 0;
  }

  @Override
  public Optional<ContainerInfo> container(String nameOrId) {
    return Optional.ofNullable(containers.get(nameOrId));
  }

  @Override
  public boolean stop(String container, int timeoutSeconds) {
    calls.add("stop " + container);
    return setRunning(container, false);
  }

  @Override
  public boolean start(String container) {
    calls.add("start " + container);
    return setRunning(container, true);
  }

  private boolean setRunning(String name, boolean running) {
    ContainerInfo c = containers.get(name);
    if (c.running() == running) return false;
    containers.put(
        name,
        new ContainerInfo(
            c.id(),
            c.name(),
            c.image(),
            c.imageId(),
            running,
            running ? "running" : "exited",
            c.labels()));
    return true;
  }

  @Override
  public boolean removeContainer(String container) {
    calls.add("rm " + container);
    return containers.remove(container) != null;
  }

  @Override
  public void rename(String container, String newName) {
    calls.add("rename " + container + " " + newName);
    ContainerInfo c = containers.remove(container);
    containers.put(
        newName,
        new ContainerInfo(
            c.id(), newName, c.image(), c.imageId(), c.running(), c.status(), c.labels()));
  }

  @Override
  public Recreated recreate(String container, String image, int stopTimeoutSeconds) {
    calls.add("recreate " + container + " " + image);
    ContainerInfo old = containers.get(container);
    String previous = container + ".runbook-prev";
    containers.put(
        previous,
        new ContainerInfo(
            old.id(), previous, old.image(), old.imageId(), false, "exited", old.labels()));
    containers.put(
        container,
        new ContainerInfo(
            "id-new", container, image, images.get(image), old.running(), "running", Map.of()));
    return new Recreated(
        container,
        "id-new",
        images.get(image),
        previous,
        old.id(),
        old.image(),
        old.imageId(),
        old.running());
  }

  @Override
  public RunResult run(String image, List<String> command, List<Mount> mounts, Duration timeout) {
    calls.add("run " + image);
    runMounts.add(mounts);
    runCommands.add(command);
    return runAnswer;
  }

  @Override
  public boolean volumeExists(String volume) {
    return volumes.contains(volume);
  }

  @Override
  public void close() {}
}
