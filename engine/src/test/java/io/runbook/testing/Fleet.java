package io.runbook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.testcontainers.containers.Network;

/**
 * A few {@link SshHost}s ({@code h1}, {@code h2}, ...) started in parallel, all accepting the
 * {@link TestKeys#shared() shared test key}, with a known_hosts file holding every host's key and
 * an Ansible-style inventory for them. Start one per test class; hosts are independent containers.
 * {@link #builder()} names the hosts, picks another image (e.g. {@link SshHost#SERVICE_IMAGE}),
 * puts them on a network of their own and publishes more ports (a whole service behind a load
 * balancer). A topology of several networks with hosts reachable only through others (BastionIT) is
 * built from {@link SshHost} directly.
 *
 * <p>A test class declares its fleet once, as a JUnit extension that starts the hosts before the
 * class's {@code @BeforeAll} methods and stops them after its {@code @AfterAll} methods:
 *
 * <pre>{@code @RegisterExtension static final Fleet fleet = Fleet.of(3);}</pre>
 */
public final class Fleet implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
  public static final String GROUP = "fleet";

  private final Builder spec;
  // Set while started: from the test class's @BeforeAll to its @AfterAll.
  private List<SshHost> hosts;
  private Path dir;
  private Network network;

  private Fleet(Builder spec) {
    this.spec = spec;
  }

  /**
   * Hosts {@code h1}..{@code hN} of the test image for a test class, started and stopped by JUnit
   * (register it with {@code @RegisterExtension} on a static field).
   */
  public static Fleet of(int size) {
    return builder().size(size).fixture();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (hosts != null)
      throw new IllegalStateException("a fleet extension starts once, on a static field");
    // SshHost starts another image or more ports on a network only; such a fleet gets one.
    Network net = spec.onNetwork() ? Network.newNetwork() : null;
    try {
      hosts = startAll(spec.names, name -> spec.startHost(name, net));
    } catch (RuntimeException e) {
      if (net != null) net.close();
      throw e;
    }
    network = net;
    dir = TestKeys.tempDir();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What a fleet differs in: its hosts' names, their image, a network between them, more ports. */
  public static final class Builder {
    private List<String> names = List.of();
    private String image = SshHost.IMAGE;
    private boolean network;
    private final Map<String, int[]> ports = new LinkedHashMap<>();

    private Builder() {}

    /** Hosts {@code h1}..{@code hN}. */
    public Builder size(int size) {
      return names(IntStream.rangeClosed(1, size).mapToObj(i -> "h" + i).toList());
    }

    public Builder names(List<String> names) {
      this.names = List.copyOf(names);
      return this;
    }

    /** An image built from the test image, e.g. {@link SshHost#SERVICE_IMAGE}. */
    public Builder image(String image) {
      this.image = image;
      return this;
    }

    /**
     * Puts the hosts on a Docker network of their own, where each is known by its name; the fleet
     * removes it when it closes.
     */
    public Builder network() {
      this.network = true;
      return this;
    }

    /**
     * Publishes these container ports of host {@code name} too (see {@link SshHost#mappedPort}).
     */
    public Builder publish(String name, int... containerPorts) {
      ports.put(name, containerPorts.clone());
      return this;
    }

    /** The fleet as a JUnit extension, started before the test class's {@code @BeforeAll}. */
    public Fleet fixture() {
      if (names.isEmpty()) throw new IllegalArgumentException("a fleet of no host");
      return new Fleet(this);
    }

    private boolean onNetwork() {
      return network || !ports.isEmpty() || !image.equals(SshHost.IMAGE);
    }

    private SshHost startHost(String name, Network net) {
      TestKeys keys = TestKeys.shared();
      if (net == null) return SshHost.start(name, keys);
      return SshHost.startOn(name, keys, net, image, ports.getOrDefault(name, new int[0]));
    }
  }

  /** Starts every host at once; if one fails, stops the others and throws. */
  private static List<SshHost> startAll(List<String> names, Function<String, SshHost> starter) {
    SshHost.requireDockerAndImage();
    // Own threads: the common pool has one worker on a two-CPU machine, which would start hosts in
    // turn.
    ExecutorService pool = Executors.newFixedThreadPool(names.size());
    try {
      List<CompletableFuture<SshHost>> starting =
          names.stream()
              .map(name -> CompletableFuture.supplyAsync(() -> starter.apply(name), pool))
              .toList();
      List<SshHost> started = new ArrayList<>();
      RuntimeException failure = null;
      for (CompletableFuture<SshHost> f : starting) {
        try {
          started.add(f.join());
        } catch (CompletionException e) {
          failure =
              failure != null
                  ? failure
                  : e.getCause() instanceof RuntimeException r
                      ? r
                      : new IllegalStateException(e.getCause());
        }
      }
      if (failure != null) {
        started.forEach(SshHost::close);
        throw failure;
      }
      return List.copyOf(started);
    } finally {
      pool.shutdown();
    }
  }

  public List<SshHost> hosts() {
    return started();
  }

  /** The i-th host, from 0. */
  public SshHost host(int index) {
    return started().get(index);
  }

  public SshHost host(String name) {
    return started().stream()
        .filter(h -> h.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no host " + name + " in " + hosts));
  }

  public Path privateKey() {
    return TestKeys.shared().privateKey();
  }

  /** A known_hosts file with every host's ed25519 key (written anew on each call). */
  public Path knownHostsFile() {
    Path file = dir.resolve("known_hosts");
    String lines =
        started().stream().map(SshHost::knownHostsLine).collect(Collectors.joining("\n", "", "\n"));
    write(file, lines);
    file.toFile().deleteOnExit();
    return file;
  }

  /**
   * Writes {@code all: {children: {fleet: {hosts: {h1: {ansible_host: 127.0.0.1, ansible_port: P,
   * ansible_user: runbook, ansible_ssh_private_key_file: KEY}}}}}}, with {@code perHostVars[i]}
   * added to (or overriding) the variables of the i-th host.
   */
  @SafeVarargs
  public final Path writeInventory(Path file, Map<String, ?>... perHostVars) {
    return writeInventory(
        file,
        h -> {
          int i = started().indexOf(h);
          return i < perHostVars.length && perHostVars[i] != null ? perHostVars[i] : Map.of();
        });
  }

  /**
   * Like {@link #writeInventory(Path, Map[])}, with each host's extra variables computed from the
   * host.
   */
  public Path writeInventory(Path file, Function<SshHost, Map<String, ?>> extraVars) {
    Map<String, Object> hostsNode = new LinkedHashMap<>();
    for (SshHost h : started()) {
      Map<String, Object> vars = new LinkedHashMap<>();
      vars.put("ansible_host", h.host());
      vars.put("ansible_port", h.port());
      vars.put("ansible_user", h.user());
      vars.put("ansible_ssh_private_key_file", h.privateKey().toString());
      extraVars.apply(h).forEach(vars::put);
      hostsNode.put(h.name(), vars);
    }
    Map<String, Object> root =
        Map.of("all", Map.of("children", Map.of(GROUP, Map.of("hosts", hostsNode))));
    DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build();
    write(file, new Dump(settings).dumpToString(root));
    return file;
  }

  private static void write(Path file, String content) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) Files.createDirectories(dir);
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<SshHost> started() {
    if (hosts == null)
      throw new IllegalStateException(
          "the fleet is not started: register it as @RegisterExtension on a static field");
    return hosts;
  }

  /** Stops the hosts and removes the network; again does nothing. */
  @Override
  public void close() {
    if (hosts != null) hosts.parallelStream().forEach(SshHost::close);
    if (network != null) network.close();
    hosts = null;
    network = null;
  }
}
