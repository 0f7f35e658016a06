package io.runbook.rehearsal;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.Volume;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.transport.DockerClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The disposable containers of one rehearsal, on the controller's Docker daemon. Each carries the
 * label {@value #LABEL}{@code =<run id>}, so that teardown (and anyone checking for leftovers)
 * finds them by it.
 *
 * <p>A rehearsal host of a Docker mode ({@code rehearsal.docker: true}) drives that daemon itself:
 * its socket is mounted at {@value DockerClients#DEFAULT_SOCKET} (with the socket's group added),
 * it shares the daemon machine's network (what its containers publish is on its 127.0.0.1, as on a
 * production host), and a volume of its own is mounted at the path where the daemon keeps that
 * volume's files, so a path under it means the same to the host's commands and to the daemon (bind
 * mounts, {@code docker_volume} archives). What such a host creates on the daemon is named after
 * the host's container ({@link #prefix}): teardown removes every container, volume, network and
 * image name whose name or compose project starts with it.
 */
public final class RehearsalContainers implements AutoCloseable {
  public static final String LABEL = "io.runbook.rehearsal";
  public static final String DEFAULT_IMAGE = "runbook/rehearsal:current";
  private static final String COMPOSE_PROJECT = "com.docker.compose.project";

  /**
   * A started rehearsal host: its container and, for a Docker host, the directory it shares with
   * the daemon.
   */
  public record Started(String name, String dir) {}

  /** What teardown removed: the rehearsal hosts, and what they made on the daemon. */
  public record Removed(int hosts, int containers, int volumes, int networks, int images) {
    /** "2 rehearsal container(s)", and what else there was. */
    public String describe() {
      List<String> made = new ArrayList<>();
      if (containers > 0) made.add(containers + " container(s)");
      if (volumes > 0) made.add(volumes + " volume(s)");
      if (networks > 0) made.add(networks + " network(s)");
      if (images > 0) made.add(images + " image name(s)");
      return hosts
          + " rehearsal container(s)"
          + (made.isEmpty() ? "" : " and what they made: " + String.join(", ", made));
    }
  }

  private final DockerClient docker;
  private final String runId;

  public RehearsalContainers(String runId) {
    this.runId = runId;
    this.docker = DockerClients.local();
  }

  /** The start of the names of everything this rehearsal creates on the daemon. */
  public static String prefix(String runId) {
    return "runbook-rehearsal-" + runId;
  }

  /**
   * Shell commands that remove what a kept rehearsal left on the daemon, in order (containers
   * before the volumes, networks and image names they use); each works as printed, also when it
   * finds nothing.
   */
  static List<String> cleanupCommands(String runId) {
    String prefix = prefix(runId) + "-";
    return List.of(
        "docker ps -aq --filter name=" + prefix + " | xargs -r docker rm -f",
        "docker volume ls -q --filter name=" + prefix + " | xargs -r docker volume rm",
        "docker network ls -q --filter name=" + prefix + " | xargs -r docker network rm",
        "docker images --format '{{.Repository}}:{{.Tag}}' | grep '^"
            + prefix
            + "' | xargs -r docker rmi");
  }

  /**
   * Creates and starts the container standing in for {@code host}.
   *
   * @param withDocker whether the host drives the daemon (see the class comment)
   * @param sharedDir for a Docker host, a path in the container that is also its shared directory;
   *     or null
   */
  public Started start(String host, String image, boolean withDocker, String sharedDir) {
    try {
      docker.inspectImageCmd(image).exec();
    } catch (NotFoundException e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "rehearsal image '"
              + image
              + "' (for host "
              + host
              + ") is not on this Docker daemon: build the default ones with scripts/build-rehearsal-image.sh, or"
              + " set the host variable rehearsal_image (or rehearsal.image) to an image you have (no registry is pulled from)");
    } catch (RuntimeException e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT,
          "the Docker daemon did not answer ("
              + e.getMessage()
              + "): rehearsals start containers; start dockerd (scripts/test-env.sh) or set DOCKER_HOST");
    }
    String name = prefix(runId) + "-" + host.replaceAll("[^A-Za-z0-9_.-]", "_");
    CreateContainerCmd create =
        docker
            .createContainerCmd(image)
            .withName(name)
            .withHostName(host.replaceAll("[^A-Za-z0-9-]", "-"))
            .withLabels(Map.of(LABEL, runId, LABEL + ".host", host));
    String dir = null;
    if (withDocker) {
      String volume = name + "-dir";
      docker
          .createVolumeCmd()
          .withName(volume)
          .withLabels(Map.of(LABEL, runId, LABEL + ".host", host))
          .exec();
      dir = docker.inspectVolumeCmd(volume).exec().getMountpoint();
      List<Bind> binds =
          new ArrayList<>(
              List.of(
                  new Bind(
                      DockerClients.localSocketPath(), new Volume(DockerClients.DEFAULT_SOCKET)),
                  new Bind(volume, new Volume(dir))));
      if (sharedDir != null && !sharedDir.equals(dir))
        binds.add(new Bind(volume, new Volume(sharedDir)));
      HostConfig hc = HostConfig.newHostConfig().withBinds(binds).withNetworkMode("host");
      String gid = socketGroup();
      if (gid != null) hc = hc.withGroupAdd(List.of(gid));
      create = create.withHostConfig(hc);
    }
    create.exec();
    docker.startContainerCmd(name).exec();
    return new Started(name, dir);
  }

  /**
   * The group id of the daemon's socket when it is on this machine (so the host's users may use
   * it), else null.
   */
  private static String socketGroup() {
    try {
      return String.valueOf(
          Files.getAttribute(Path.of(DockerClients.localSocketPath()), "unix:gid"));
    } catch (Exception e) {
      return null;
    }
  }

  /** Creates a volume of this rehearsal (labelled, so teardown removes it) unless it exists. */
  public void volume(String name, String host) {
    try {
      docker.inspectVolumeCmd(name).exec();
    } catch (NotFoundException e) {
      docker
          .createVolumeCmd()
          .withName(name)
          .withLabels(Map.of(LABEL, runId, LABEL + ".host", host))
          .exec();
    }
  }

  /** Names of this rehearsal's hosts' containers, running or not. */
  public List<String> list() {
    return list(docker, runId);
  }

  public static List<String> list(DockerClient docker, String runId) {
    List<String> names = new ArrayList<>();
    for (Container c :
        docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(LABEL, runId)).exec()) {
      names.add(c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId());
    }
    return names;
  }

  /**
   * Names of every container on the daemon that belongs to rehearsal {@code runId}: its hosts and
   * what they created (by name or compose project).
   */
  public static List<String> everything(DockerClient docker, String runId) {
    List<String> names = new ArrayList<>();
    for (Container c : docker.listContainersCmd().withShowAll(true).exec()) {
      if (belongs(c, runId))
        names.add(c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId());
    }
    return names;
  }

  private static boolean belongs(Container c, String runId) {
    Map<String, String> labels = c.getLabels() == null ? Map.of() : c.getLabels();
    if (runId.equals(labels.get(LABEL))) return true;
    if (named(labels.getOrDefault(COMPOSE_PROJECT, ""), runId)) return true;
    for (String n : c.getNames() == null ? new String[0] : c.getNames()) {
      if (named(n.replaceFirst("^/", ""), runId)) return true;
    }
    return false;
  }

  private static boolean named(String name, String runId) {
    return name != null && name.startsWith(prefix(runId) + "-");
  }

  /**
   * Removes what the rehearsal made on the daemon: what its hosts created first (containers, then
   * volumes and networks named after the rehearsal), the hosts' containers, then their volumes.
   */
  public Removed removeAll() {
    int hosts = 0;
    int containers = 0;
    List<Container> all = docker.listContainersCmd().withShowAll(true).exec();
    // The hosts' own containers last: what they started may use their network.
    List<Container> ordered =
        new ArrayList<>(
            all.stream()
                .filter(c -> belongs(c, runId))
                .filter(c -> c.getLabels() == null || !runId.equals(c.getLabels().get(LABEL)))
                .toList());
    ordered.addAll(
        all.stream()
            .filter(c -> c.getLabels() != null && runId.equals(c.getLabels().get(LABEL)))
            .toList());
    for (Container c : ordered) {
      try {
        docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
        if (c.getLabels() != null && runId.equals(c.getLabels().get(LABEL))) hosts++;
        else containers++;
      } catch (NotFoundException gone) {
        // removed meanwhile
      }
    }
    int volumes = 0;
    var listed = docker.listVolumesCmd().exec().getVolumes();
    for (var v : listed == null ? List.<InspectVolumeResponse>of() : listed) {
      Map<String, String> labels = v.getLabels() == null ? Map.of() : v.getLabels();
      if (!named(v.getName(), runId)
          && !runId.equals(labels.get(LABEL))
          && !named(labels.getOrDefault(COMPOSE_PROJECT, ""), runId)) continue;
      try {
        docker.removeVolumeCmd(v.getName()).exec();
        volumes++;
      } catch (NotFoundException gone) {
        // removed meanwhile
      }
    }
    int networks = 0;
    for (Network n : docker.listNetworksCmd().exec()) {
      if (!named(n.getName(), runId)) continue;
      try {
        docker.removeNetworkCmd(n.getId()).exec();
        networks++;
      } catch (NotFoundException gone) {
        // removed meanwhile
      }
    }
    int images = 0;
    for (var i : docker.listImagesCmd().exec()) {
      for (String tag : i.getRepoTags() == null ? new String[0] : i.getRepoTags()) {
        if (!named(tag, runId)) continue;
        try {
          docker
              .removeImageCmd(tag)
              .exec(); // the name; the image goes only if nothing else names it
          images++;
        } catch (NotFoundException gone) {
          // removed meanwhile
        }
      }
    }
    return new Removed(hosts, containers, volumes, networks, images);
  }

  @Override
  public void close() {
    try {
      docker.close();
    } catch (Exception ignored) {
      // nothing left to release
    }
  }
}
