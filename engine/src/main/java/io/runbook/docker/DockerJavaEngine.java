package io.runbook.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.PullImageCmd;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PruneType;
import com.github.dockerjava.api.model.Volume;
import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.transport.DockerClients;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.ExecResult;
import io.runbook.transport.Shell;
import io.runbook.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@link DockerEngine} over docker-java, talking to one host's daemon (its socket, forwarded if
 * remote).
 */
public final class DockerJavaEngine implements DockerEngine {
  /** The suffix of the container a recreate keeps until cleanup. */
  public static final String PREVIOUS_SUFFIX = ".runbook-prev";

  private final DockerClient client;
  private final String host;

  DockerJavaEngine(DockerClient client, String host) {
    this.client = client;
    this.host = host;
  }

  /**
   * Opens the daemon of the transport's host at {@code socketPath}: checks on the host that the
   * socket is there and usable by the login user (so that the error says what to do), then connects
   * and pings.
   */
  public static DockerEngine open(Transport transport, String socketPath, String host) {
    String q = Shell.quote(socketPath);
    ExecResult probe =
        transport.exec(
            ExecRequest.builder(
                    "if [ ! -S "
                        + q
                        + " ]; then echo missing; "
                        + "elif [ ! -r "
                        + q
                        + " ] || [ ! -w "
                        + q
                        + " ]; then echo denied; else echo ok; fi; id -un")
                .timeout(Duration.ofSeconds(30))
                .build());
    String[] answer = probe.stdoutText().strip().split("\\R", -1);
    String user = answer.length > 1 ? answer[1] : "the login user";
    if (answer[0].equals("missing")) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host
              + ": no Docker daemon socket at "
              + socketPath
              + " (is Docker installed and running there? set docker_socket if it listens elsewhere)");
    }
    if (answer[0].equals("denied")) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host
              + ": permission denied on "
              + socketPath
              + ": add "
              + user
              + " to the docker group (usermod -aG docker "
              + user
              + ") and reconnect");
    }
    DockerClient client = DockerClients.forHost(transport.dockerHost(socketPath));
    DockerJavaEngine engine = new DockerJavaEngine(client, host);
    engine.call("reach the Docker daemon at " + socketPath, () -> client.pingCmd().exec());
    return engine;
  }

  @Override
  public Optional<String> imageId(String image) {
    return call(
        "inspect image " + image,
        () -> {
          try {
            return Optional.of(client.inspectImageCmd(image).exec().getId());
          } catch (NotFoundException e) {
            return Optional.empty();
          }
        });
  }

  @Override
  public Pulled pull(String image, RegistryAuth auth, Duration timeout) {
    String before = imageId(image).orElse(null);
    call(
        "pull " + image,
        () -> {
          PullImageCmd cmd;
          int slash = image.lastIndexOf('/');
          int colon = image.lastIndexOf(':');
          if (image.contains("@")) cmd = client.pullImageCmd(image);
          else if (colon > slash)
            cmd =
                client.pullImageCmd(image.substring(0, colon)).withTag(image.substring(colon + 1));
          else cmd = client.pullImageCmd(image).withTag("latest");
          if (auth != null) {
            cmd =
                cmd.withAuthConfig(
                    new AuthConfig()
                        .withUsername(auth.username())
                        .withPassword(auth.password())
                        .withRegistryAddress(
                            auth.server() != null ? auth.server() : registryOf(image)));
          }
          try {
            if (!cmd.exec(new PullImageResultCallback())
                .awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
              throw new RunbookException(
                  ErrorCode.HOST_FAILED,
                  host
                      + ": pull "
                      + image
                      + " did not finish within "
                      + timeout.toSeconds()
                      + " s");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunbookException(
                ErrorCode.HOST_FAILED, host + ": interrupted while pulling " + image);
          }
          return null;
        });
    InspectImageResponse after =
        call("inspect image " + image, () -> client.inspectImageCmd(image).exec());
    String repo =
        image.contains("@")
            ? image.substring(0, image.indexOf('@'))
            : image.lastIndexOf(':') > image.lastIndexOf('/')
                ? image.substring(0, image.lastIndexOf(':'))
                : image;
    String digest =
        after.getRepoDigests() == null
            ? null
            : after.getRepoDigests().stream()
                .filter(d -> d.startsWith(repo + "@"))
                .map(d -> d.substring(repo.length() + 1))
                .findFirst()
                .orElse(null);
    return new Pulled(image, after.getId(), digest, !after.getId().equals(before), before);
  }

  private static String registryOf(String image) {
    int slash = image.indexOf('/');
    if (slash < 0) return "https://index.docker.io/v1/";
    String first = image.substring(0, slash);
    return first.contains(".") || first.contains(":") || first.equals("localhost")
        ? first
        : "https://index.docker.io/v1/";
  }

  @Override
  public void tag(String source, String target) {
    int slash = target.lastIndexOf('/');
    int colon = target.lastIndexOf(':');
    String repo = colon > slash ? target.substring(0, colon) : target;
    String tag = colon > slash ? target.substring(colon + 1) : "latest";
    call(
        "tag " + source + " as " + target,
        () -> {
          try {
            client.tagImageCmd(source, repo, tag).withForce(true).exec();
          } catch (NotFoundException e) {
            throw new RunbookException(
                ErrorCode.HOST_FAILED,
                host
                    + ": cannot tag "
                    + source
                    + " as "
                    + target
                    + ": the host has no image "
                    + source
                    + " (pull it first)");
          }
          return null;
        });
  }

  @Override
  public boolean removeImage(String image, boolean force) {
    return call(
        "remove image " + image,
        () -> {
          try {
            client.removeImageCmd(image).withForce(force).exec();
            return true;
          } catch (NotFoundException e) {
            return false;
          } catch (ConflictException e) {
            throw new ImageInUseException(
                host
                    + ": cannot remove image "
                    + image
                    + ": a container uses it ("
                    + e.getMessage().replaceAll("(?s).*(container [0-9a-f]+).*", "$1")
                    + ")");
          }
        });
  }

  @Override
  public long pruneImages(boolean all) {
    return call(
        "prune images",
        () -> {
          Long reclaimed =
              client.pruneCmd(PruneType.IMAGES).withDangling(!all).exec().getSpaceReclaimed();
          return reclaimed == null ? 0L : reclaimed;
        });
  }

  @Override
  public Optional<ContainerInfo> container(String nameOrId) {
    return call(
        "inspect container " + nameOrId,
        () -> {
          try {
            return Optional.of(info(client.inspectContainerCmd(nameOrId).exec()));
          } catch (NotFoundException e) {
            return Optional.empty();
          }
        });
  }

  private static ContainerInfo info(InspectContainerResponse c) {
    ContainerConfig cfg = c.getConfig();
    Map<String, String> labels = cfg.getLabels() == null ? Map.of() : cfg.getLabels();
    return new ContainerInfo(
        c.getId(),
        c.getName().replaceFirst("^/", ""),
        cfg.getImage(),
        c.getImageId(),
        Boolean.TRUE.equals(c.getState().getRunning()),
        c.getState().getStatus(),
        labels);
  }

  @Override
  public boolean stop(String container, int timeoutSeconds) {
    return changeState(
        "stop",
        container,
        () -> client.stopContainerCmd(container).withTimeout(timeoutSeconds).exec());
  }

  @Override
  public boolean start(String container) {
    return changeState("start", container, () -> client.startContainerCmd(container).exec());
  }

  /**
   * Stops or starts a container: false when it already was in that state (the daemon answers 304).
   */
  private boolean changeState(String verb, String container, Runnable command) {
    return call(
        verb + " container " + container,
        () -> {
          try {
            command.run();
            return true;
          } catch (NotModifiedException e) {
            return false;
          } catch (NotFoundException e) {
            throw noContainer(container);
          }
        });
  }

  @Override
  public boolean removeContainer(String container) {
    return call(
        "remove container " + container,
        () -> {
          try {
            client.removeContainerCmd(container).withForce(true).withRemoveVolumes(false).exec();
            return true;
          } catch (NotFoundException e) {
            return false;
          }
        });
  }

  @Override
  public void rename(String container, String newName) {
    call(
        "rename container " + container + " to " + newName,
        () -> {
          client.renameContainerCmd(container).withName(newName).exec();
          return null;
        });
  }

  @Override
  public Recreated recreate(String container, String image, int stopTimeoutSeconds) {
    InspectContainerResponse old =
        call(
            "inspect container " + container,
            () -> {
              try {
                return client.inspectContainerCmd(container).exec();
              } catch (NotFoundException e) {
                throw noContainer(container);
              }
            });
    String name = old.getName().replaceFirst("^/", "");
    String previous = name + PREVIOUS_SUFFIX;
    if (container(previous).isPresent()) {
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host
              + ": container "
              + previous
              + " is left from an "
              + "earlier recreate of "
              + name
              + "; remove it (docker rm "
              + previous
              + ") or restore it, then run again");
    }
    String newImageId =
        imageId(image)
            .orElseThrow(
                () ->
                    new RunbookException(
                        ErrorCode.HOST_FAILED,
                        host
                            + ": cannot recreate "
                            + name
                            + " from "
                            + image
                            + ": the host has no such image (pull it first)"));
    ContainerConfig cfg = old.getConfig();
    ContainerConfig imageCfg =
        call(
            "inspect image " + old.getImageId(),
            () -> {
              try {
                return client.inspectImageCmd(old.getImageId()).exec().getConfig();
              } catch (NotFoundException e) {
                return null; // the old image is gone: keep everything the container had
              }
            });
    boolean wasRunning = Boolean.TRUE.equals(old.getState().getRunning());
    if (wasRunning) stop(name, stopTimeoutSeconds);
    rename(name, previous);
    String createdId = null;
    try {
      createdId =
          call(
              "create container " + name + " from " + image,
              () -> create(name, image, old, imageCfg).exec().getId());
      String id = createdId;
      connectExtraNetworks(id, old);
      if (wasRunning) start(id);
      return new Recreated(
          name,
          id,
          newImageId,
          previous,
          old.getId(),
          cfg.getImage(),
          old.getImageId(),
          wasRunning);
    } catch (RuntimeException e) {
      // Put the old container back before reporting: the host must not be left without its service.
      if (createdId != null) removeContainer(createdId);
      rename(previous, name);
      if (wasRunning) start(name);
      throw e;
    }
  }

  /**
   * The old container's configuration minus what its image set, so the new image's defaults apply.
   */
  private CreateContainerCmd create(
      String name, String image, InspectContainerResponse old, ContainerConfig imageCfg) {
    ContainerConfig cfg = old.getConfig();
    CreateContainerCmd cmd =
        client.createContainerCmd(image).withName(name).withHostConfig(old.getHostConfig());
    List<String> imageEnv =
        imageCfg == null || imageCfg.getEnv() == null
            ? List.of()
            : Arrays.asList(imageCfg.getEnv());
    List<String> env =
        cfg.getEnv() == null
            ? List.of()
            : Arrays.stream(cfg.getEnv()).filter(e -> !imageEnv.contains(e)).toList();
    cmd.withEnv(env);
    Map<String, String> imageLabels =
        imageCfg == null || imageCfg.getLabels() == null ? Map.of() : imageCfg.getLabels();
    Map<String, String> labels = new LinkedHashMap<>();
    if (cfg.getLabels() != null) {
      cfg.getLabels()
          .forEach(
              (k, v) -> {
                if (!v.equals(imageLabels.get(k))) labels.put(k, v);
              });
    }
    cmd.withLabels(labels);
    if (cfg.getCmd() != null
        && (imageCfg == null || !Arrays.equals(cfg.getCmd(), imageCfg.getCmd())))
      cmd.withCmd(cfg.getCmd());
    if (cfg.getEntrypoint() != null
        && (imageCfg == null || !Arrays.equals(cfg.getEntrypoint(), imageCfg.getEntrypoint()))) {
      cmd.withEntrypoint(cfg.getEntrypoint());
    }
    if (cfg.getExposedPorts() != null) cmd.withExposedPorts(cfg.getExposedPorts());
    if (cfg.getUser() != null
        && !cfg.getUser().isEmpty()
        && (imageCfg == null || !cfg.getUser().equals(imageCfg.getUser()))) {
      cmd.withUser(cfg.getUser());
    }
    if (cfg.getWorkingDir() != null
        && !cfg.getWorkingDir().isEmpty()
        && (imageCfg == null || !cfg.getWorkingDir().equals(imageCfg.getWorkingDir()))) {
      cmd.withWorkingDir(cfg.getWorkingDir());
    }
    return cmd;
  }

  /**
   * The primary network comes with the host config; the others are joined again with their aliases.
   */
  private void connectExtraNetworks(String id, InspectContainerResponse old) {
    Map<String, ContainerNetwork> networks =
        old.getNetworkSettings() == null ? null : old.getNetworkSettings().getNetworks();
    if (networks == null) return;
    String primary = old.getHostConfig().getNetworkMode();
    Set<String> skip = Set.of("host", "none", "bridge", "default");
    String shortId = old.getId().substring(0, Math.min(12, old.getId().length()));
    networks.forEach(
        (net, settings) -> {
          if (net.equals(primary) || skip.contains(net)) return;
          List<String> aliases =
              settings.getAliases() == null
                  ? List.of()
                  : settings.getAliases().stream().filter(a -> !a.equals(shortId)).toList();
          call(
              "connect " + id + " to network " + net,
              () -> {
                client
                    .connectToNetworkCmd()
                    .withNetworkId(net)
                    .withContainerId(id)
                    .withContainerNetwork(new ContainerNetwork().withAliases(aliases))
                    .exec();
                return null;
              });
        });
  }

  @Override
  public RunResult run(String image, List<String> command, List<Mount> mounts, Duration timeout) {
    List<Bind> binds = new ArrayList<>();
    for (Mount m : mounts)
      binds.add(
          new Bind(
              m.source(), new Volume(m.target()), m.readOnly() ? AccessMode.ro : AccessMode.rw));
    String id =
        call(
            "create a throwaway container from " + image,
            () -> {
              try {
                return client
                    .createContainerCmd(image)
                    .withCmd(command)
                    .withEntrypoint(List.of())
                    .withLabels(Map.of("io.runbook.throwaway", "true"))
                    .withHostConfig(
                        HostConfig.newHostConfig().withBinds(binds).withNetworkMode("none"))
                    .exec()
                    .getId();
              } catch (NotFoundException e) {
                throw new RunbookException(
                    ErrorCode.HOST_FAILED,
                    host
                        + ": the host has no image "
                        + image
                        + " for the throwaway container (pull it first, or name another with 'image')");
              }
            });
    try {
      client.startContainerCmd(id).exec();
      Integer code =
          call(
              "wait for the throwaway container",
              () ->
                  client
                      .waitContainerCmd(id)
                      .exec(new WaitContainerResultCallback())
                      .awaitStatusCode(timeout.toMillis(), TimeUnit.MILLISECONDS));
      StringBuilder out = new StringBuilder();
      call(
          "read the throwaway container's output",
          () -> {
            try {
              client
                  .logContainerCmd(id)
                  .withStdOut(true)
                  .withStdErr(true)
                  .withFollowStream(false)
                  .exec(
                      new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame f) {
                          out.append(new String(f.getPayload(), StandardCharsets.UTF_8));
                        }
                      })
                  .awaitCompletion(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return null;
          });
      return new RunResult(code == null ? -1 : code, out.toString());
    } finally {
      // with its anonymous volumes (an image's VOLUME it did not mount); named ones are never
      // removed
      call(
          "remove the throwaway container",
          () -> {
            client.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
            return null;
          });
    }
  }

  @Override
  public boolean volumeExists(String volume) {
    return call(
        "inspect volume " + volume,
        () -> {
          try {
            client.inspectVolumeCmd(volume).exec();
            return true;
          } catch (NotFoundException e) {
            return false;
          }
        });
  }

  @Override
  public void close() {
    try {
      client.close();
    } catch (Exception ignored) {
      // nothing on the host to release
    }
  }

  private RunbookException noContainer(String container) {
    return new RunbookException(
        ErrorCode.HOST_FAILED,
        host + ": no container " + container + " (docker ps -a on the host lists them)");
  }

  /**
   * Runs a docker-java call, turning its failures into one message naming the host and the
   * operation.
   */
  private <T> T call(String what, Supplier<T> op) {
    try {
      return op.get();
    } catch (RunbookException e) {
      throw e;
    } catch (DockerException e) {
      String msg = e.getMessage() == null ? "" : e.getMessage().strip();
      // docker-java prefixes "Status 404: {"message":"..."}"; the daemon's sentence is what
      // matters.
      int at = msg.indexOf("\"message\":\"");
      if (at >= 0) msg = msg.substring(at + 11, Math.max(at + 11, msg.lastIndexOf('"')));
      throw new RunbookException(ErrorCode.HOST_FAILED, host + ": cannot " + what + ": " + msg);
    } catch (RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null) root = root.getCause();
      throw new RunbookException(
          ErrorCode.HOST_FAILED,
          host
              + ": cannot "
              + what
              + ": lost the Docker daemon ("
              + root.getClass().getSimpleName()
              + ": "
              + root.getMessage()
              + ")");
    }
  }
}
