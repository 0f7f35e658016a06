package io.runbook.docker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Docker operations the steps need, in the engine's own terms: image and container names in,
 * records out. Steps see only this interface; {@link DockerJavaEngine} implements it over
 * docker-java, and the step tests record calls on a fake. One per host, opened on a step's first
 * use and closed with the host.
 *
 * <p>Every method throws {@link io.runbook.RunbookException} (HOST_FAILED) with a message naming
 * the image, container or volume and what to do; a lost SSH connection surfaces as a {@link
 * io.runbook.transport.TransportException}.
 */
public interface DockerEngine extends AutoCloseable {

  /** The id ({@code sha256:...}) of a local image, or empty when the daemon does not have it. */
  Optional<String> imageId(String image);

  /** Pulls {@code image} (a tag defaults to "latest"), with the registry's credentials if given. */
  Pulled pull(String image, RegistryAuth auth, Duration timeout);

  /** Points {@code target} ("repo:tag") at the image {@code source} names (a name or an id). */
  void tag(String source, String target);

  /**
   * Removes an image name (and the image once no name is left); false when it was not there.
   *
   * @throws ImageInUseException without {@code force}, when a container (running or stopped) uses
   *     it
   */
  boolean removeImage(String image, boolean force);

  /** Removes unused images: dangling ones, or every image no container uses when {@code all}. */
  long pruneImages(boolean all);

  /** A container by name or id, or empty. */
  Optional<ContainerInfo> container(String nameOrId);

  /** Stops a container; false when it was not running. */
  boolean stop(String container, int timeoutSeconds);

  /** Starts a container; false when it was already running. */
  boolean start(String container);

  /** Removes a container (stopping it first); its volumes stay. False when it was not there. */
  boolean removeContainer(String container);

  /** Renames a container. */
  void rename(String container, String newName);

  /**
   * Replaces {@code container} by a new one from {@code image} with the old one's configuration:
   * env, mounts, port bindings, networks, restart policy, labels, cmd and entrypoint (those that
   * the old image did not set itself). The old container is stopped and renamed {@code
   * <name>.runbook-prev}, the new one created under the old name and started (if the old one was
   * running).
   */
  Recreated recreate(String container, String image, int stopTimeoutSeconds);

  /**
   * Runs a throwaway container to its end and removes it: {@code command} in {@code image} with the
   * given mounts, no network. Returns its exit code and combined output.
   */
  RunResult run(String image, List<String> command, List<Mount> mounts, Duration timeout);

  /** Whether a named volume exists. */
  boolean volumeExists(String volume);

  /** Releases the client (and nothing on the host). Never throws. */
  @Override
  void close();

  /** Registry credentials for a pull; {@code server} null means the image's own registry. */
  record RegistryAuth(String username, String password, String server) {}

  /** What a pull brought: the image's id and its registry digest. */
  record Pulled(
      String image, String imageId, String digest, boolean changed, String previousImageId) {}

  /** What inspecting a container tells a step. */
  record ContainerInfo(
      String id,
      String name,
      String image,
      String imageId,
      boolean running,
      String status,
      Map<String, String> labels) {}

  /**
   * A recreated container: the new one under {@code name}, the previous one kept as {@code
   * previousName} (stopped) until a cleanup removes it or an undo brings it back.
   */
  record Recreated(
      String name,
      String newId,
      String newImageId,
      String previousName,
      String previousId,
      String previousImage,
      String previousImageId,
      boolean wasRunning) {}

  /** A mount of a throwaway container: a named volume or a host directory at {@code target}. */
  record Mount(String source, String target, boolean volume, boolean readOnly) {
    public static Mount volume(String name, String target, boolean readOnly) {
      return new Mount(name, target, true, readOnly);
    }

    public static Mount hostDir(String path, String target, boolean readOnly) {
      return new Mount(path, target, false, readOnly);
    }
  }

  /** The end of a throwaway container. */
  record RunResult(int exitCode, String output) {}
}
