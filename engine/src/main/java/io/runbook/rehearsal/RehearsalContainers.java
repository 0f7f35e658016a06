package io.runbook.rehearsal;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.docker.DockerClients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The disposable containers of one rehearsal, on the controller's Docker daemon. Each carries the label
 * {@value #LABEL}{@code =<run id>}, so that teardown (and anyone checking for leftovers) finds them by it.
 */
public final class RehearsalContainers implements AutoCloseable {
  public static final String LABEL = "io.runbook.rehearsal";
  public static final String DEFAULT_IMAGE = "runbook/rehearsal:current";

  private final DockerClient docker;
  private final String runId;

  public RehearsalContainers(String runId) {
    this.runId = runId;
    this.docker = DockerClients.local();
  }

  /** Creates and starts the container standing in for {@code host}; returns its name. */
  public String start(String host, String image) {
    try {
      docker.inspectImageCmd(image).exec();
    } catch (NotFoundException e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "rehearsal image '" + image + "' (for host " + host
          + ") is not on this Docker daemon: build the default one with scripts/build-rehearsal-image.sh, or"
          + " set the host variable rehearsal_image to an image you have (no registry is pulled from)");
    } catch (RuntimeException e) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, "the Docker daemon did not answer (" + e.getMessage()
          + "): rehearsals start containers; start dockerd (scripts/test-env.sh) or set DOCKER_HOST");
    }
    String name = "runbook-rehearsal-" + runId + "-" + host.replaceAll("[^A-Za-z0-9_.-]", "_");
    docker.createContainerCmd(image).withName(name)
        .withHostName(host.replaceAll("[^A-Za-z0-9-]", "-"))
        .withLabels(Map.of(LABEL, runId, LABEL + ".host", host))
        .exec();
    docker.startContainerCmd(name).exec();
    return name;
  }

  /** Names of this rehearsal's containers, running or not. */
  public List<String> list() {
    return list(docker, runId);
  }

  public static List<String> list(DockerClient docker, String runId) {
    List<String> names = new ArrayList<>();
    for (Container c : docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(LABEL, runId)).exec()) {
      names.add(c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId());
    }
    return names;
  }

  /** Removes every container of this rehearsal with its anonymous volumes; returns how many. */
  public int removeAll() {
    int n = 0;
    for (Container c : docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(LABEL, runId)).exec()) {
      try {
        docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
        n++;
      } catch (NotFoundException gone) {
        // removed meanwhile
      }
    }
    return n;
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
