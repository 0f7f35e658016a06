package io.runbook.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PostgreSQL 15 cluster of this machine's own server binaries (Debian's postgresql-15,
 * installed by scripts/test-env.sh) in a temp dir, listening on a free loopback port. The superuser
 * {@code admin} logs in with SCRAM-SHA-256 (database {@code sample}); {@code pg_hba.conf} also lets
 * {@code md5user} in with md5 (its database {@code md5db}) and {@code trustuser} without a password
 * ({@code trustdb}), so that every login the sample's client speaks is exercised. A missing server
 * fails the test. As root (CI), the cluster runs as the {@code postgres} user: initdb refuses root.
 */
public final class LocalPostgres implements AutoCloseable {
  public static final String BIN = "/usr/lib/postgresql/15/bin";
  public static final String PASSWORD = "admin-Secret-42";
  private final Path dir;
  private final int port;

  private LocalPostgres(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static LocalPostgres start() throws Exception {
    Path dir = Files.createTempDirectory("runbook-pg");
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root) run(List.of("chown", "postgres", dir.toString()), false);
    Path pw = dir.resolve("pw");
    Files.writeString(pw, PASSWORD + "\n");
    if (root) run(List.of("chown", "postgres", pw.toString()), false);
    run(
        List.of(
            BIN + "/initdb",
            "-D",
            dir.resolve("data").toString(),
            "-U",
            "admin",
            "--pwfile=" + pw,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync"),
        root);
    Files.writeString(
        dir.resolve("data/pg_hba.conf"),
        """
        host all md5user 127.0.0.1/32 md5
        host all trustuser 127.0.0.1/32 trust
        host all all 127.0.0.1/32 scram-sha-256
        local all all scram-sha-256
        """);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    run(
        List.of(
            BIN + "/pg_ctl",
            "-D",
            dir.resolve("data").toString(),
            "-l",
            dir.resolve("log").toString(),
            "-o",
            "-p " + port + " -h 127.0.0.1 -k " + dir + " -c fsync=off",
            "-w",
            "-t",
            "30",
            "start"),
        root);
    LocalPostgres pg = new LocalPostgres(dir, port);
    pg.psql(
        "postgres",
        "SET password_encryption = 'md5'; CREATE ROLE md5user LOGIN PASSWORD 'md5-Secret-42'",
        "CREATE ROLE trustuser LOGIN",
        "CREATE DATABASE sample OWNER admin",
        "CREATE DATABASE md5db OWNER md5user",
        "CREATE DATABASE trustdb OWNER trustuser");
    return pg;
  }

  public int port() {
    return port;
  }

  /** A postgresql:// URL for {@code user} (password may be null) and database. */
  public String url(String user, String password, String database) {
    return "postgresql://"
        + user
        + (password == null ? "" : ":" + password)
        + "@127.0.0.1:"
        + port
        + "/"
        + database;
  }

  /**
   * Runs SQL as admin with psql, each argument its own -c (own transaction); returns the unaligned,
   * tuples-only output.
   */
  public String psql(String database, String... sql) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"));
    for (String s : sql) command.addAll(List.of("-c", s));
    command.add(url("admin", PASSWORD, database));
    return run(command, false);
  }

  /**
   * pg_dump of the database as plain SQL, comparable between two calls: the random key of the
   * {@code \\restrict} lines that newer pg_dump releases write is left out.
   */
  public String dump(String database) throws Exception {
    return withoutRestrictKeys(
        run(List.of("pg_dump", "--no-owner", url("admin", PASSWORD, database)), false));
  }

  public static String withoutRestrictKeys(String dump) {
    return dump.replaceAll("(?m)^\\\\(un)?restrict .*$", "");
  }

  /** Stops the server and removes its files; an interrupt is kept for the caller to see. */
  @Override
  public void close() throws IOException {
    boolean root = "root".equals(System.getProperty("user.name"));
    try {
      run(
          List.of(
              BIN + "/pg_ctl",
              "-D",
              dir.resolve("data").toString(),
              "-m",
              "immediate",
              "-w",
              "stop"),
          root);
      run(List.of("rm", "-rf", dir.toString()), false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping PostgreSQL in " + dir, e);
    }
  }

  private static String run(List<String> command, boolean asPostgres)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asPostgres) full.addAll(List.of("runuser", "-u", "postgres", "--"));
    full.addAll(command);
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(command.get(0) + " failed: " + out);
    }
    return out;
  }
}
