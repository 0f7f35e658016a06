package io.runbook.step;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of its own for a test class: initdb into a temp directory, started on a free
 * loopback port with trust authentication, removed on {@link #close()}. Needs Debian's postgresql
 * package (/usr/lib/postgresql/N/bin) and psql; as root it runs the server as the postgres user.
 * {@link #start()} is empty when any of that is missing, so the tests using it skip.
 */
final class ThrowawayPostgres implements AutoCloseable {
  private final Path bin;
  private final Path home;
  private final int port;
  private final boolean asPostgres;

  private ThrowawayPostgres(Path bin, Path home, int port, boolean asPostgres) {
    this.bin = bin;
    this.home = home;
    this.port = port;
    this.asPostgres = asPostgres;
  }

  static Optional<ThrowawayPostgres> start() throws Exception {
    Optional<Path> bin = serverBin();
    if (bin.isEmpty() || run(List.of("sh", "-c", "command -v psql")) != 0) return Optional.empty();
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root && run(List.of("id", "postgres")) != 0) return Optional.empty();
    Path home = Files.createTempDirectory("runbook-pg");
    if (root && run(List.of("chown", "postgres", home.toString())) != 0) return Optional.empty();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ThrowawayPostgres pg = new ThrowawayPostgres(bin.get(), home, port, root);
    if (pg.server("initdb", "-D", home + "/data", "-A", "trust", "-U", "postgres", "--no-sync") != 0
        || pg.server(
                "pg_ctl",
                "-D",
                home + "/data",
                "-l",
                home + "/log",
                "-w",
                "-t",
                "30",
                "-o",
                "-p " + port + " -k " + home + " -c listen_addresses=127.0.0.1 -c fsync=off",
                "start")
            != 0) {
      pg.close();
      return Optional.empty();
    }
    return Optional.of(pg);
  }

  /**
   * A connection string with a password, which trust authentication ignores: it must never be
   * shown.
   */
  String url(String password, String database) {
    return "postgresql://postgres:" + password + "@127.0.0.1:" + port + "/" + database;
  }

  /** Creates a new, empty database on this server. */
  void createDatabase(String name) throws Exception {
    if (run(List.of("psql", "-X", "-q", "-c", "CREATE DATABASE " + name, url("x", "postgres")))
        != 0) {
      throw new IllegalStateException("cannot create database " + name);
    }
  }

  @Override
  public void close() throws Exception {
    server("pg_ctl", "-D", home + "/data", "-m", "immediate", "-w", "stop");
    try (Stream<Path> all = Files.walk(home)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private int server(String program, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    if (asPostgres) cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    cmd.add(bin.resolve(program).toString());
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  private static Optional<Path> serverBin() throws IOException {
    Path versions = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(versions)) return Optional.empty();
    try (Stream<Path> dirs = Files.list(versions)) {
      return dirs.map(d -> d.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(Comparator.comparing(b -> b.getParent().getFileName().toString()));
    }
  }

  private static int run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    if (p.exitValue() != 0)
      System.err.println(
          String.join(" ", command) + ": " + new String(out, StandardCharsets.UTF_8));
    return p.exitValue();
  }
}
