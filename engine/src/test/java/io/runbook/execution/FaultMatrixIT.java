package io.runbook.execution;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import io.runbook.testing.Fleet;
import io.runbook.testing.SshHost;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery invariants, proved by injecting faults into real runs on four real OpenSSH hosts
 * with a real SQLite database each: every {@code on_failure} policy × a failing host in batch 1 or
 * batch 2 × a controller {@code SIGKILL} (none; at a line of the journal drawn from a seeded
 * sample; inside a named slow step or rollback handler), then {@code resume}, {@code rollback
 * RUN_ID} and {@code rollback RUN_ID} again; plus a second controller resuming a live run, and a
 * journal whose disk fills up.
 *
 * <p>Checked on the hosts themselves after each command: every host fully upgraded or
 * byte-identical to before (files, symlinks, database rows, no release left behind); each undo
 * handler at most once per host and the non-idempotent step at most once; rows written after the
 * run never overwritten; no lock left; a second rollback contacts no host. The last line printed is
 * the totals.
 */
class FaultMatrixIT {
  static final String APP = "/home/runbook/fm";
  static final String LOGS = "/home/runbook/fm-logs";
  static final String BACKUPS = "/home/runbook/fm-backups";
  static final List<String> POLICIES = List.of("rollback-host", "halt", "rollback-fleet");
  @RegisterExtension static final Fleet fleet = Fleet.of(4);
  static int cases;
  static int invariants;
  static int violated;
  final List<String> violations = new ArrayList<>();
  static final long SEED = Long.getLong("faultmatrix.seed", System.nanoTime());

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    System.out.println(
        "fault matrix seed: " + SEED + " (rerun with -Dfaultmatrix.seed=" + SEED + ")");
  }

  @AfterAll
  static void stop() {
    System.out.println(
        cases + " cases, " + invariants + " invariants checked, " + violated + " violated");
  }

  // ---------------------------------------------------------------- the runbook and the hosts

  Path runbook() throws Exception {
    return Files.writeString(
        tmp.resolve("matrix.yaml"),
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: fault matrix
        hosts: fleet
        timeout: 60s
        vars: {app: %s, logs: %s, backups: %s, slow: "0.6", fail_on: none}
        rollout:
          serial: [1, "100%%"]
          max_fail_percentage: 50
        phases:
          preflight:
            - name: The app is on release 1
              shell: test "$(readlink [=app]/current)" = releases/1
          backup:
            - name: Back up the database and the config
              backup: {paths: ["[=app]/data.db", "[=app]/config.json"], dest: "[=backups]"}
          pull:
            - name: Create release 2
              shell: mkdir [=app]/releases/2 && echo v2 > [=app]/releases/2/app.txt && echo pull >> [=logs]/forward.log && sleep [=slow]
              rollback:
                - name: Remove release 2
                  shell: rm -rf [=app]/releases/2 && sleep [=slow] && echo remove-release >> [=logs]/undo.log
          migrate:
            - name: Migrate the database
              shell: sqlite3 [=app]/data.db "insert into t values('migrated')" && echo migrate >> [=logs]/forward.log && sleep [=slow]
          deploy:
            - name: Install the new config
              copy: {dest: "[=app]/config.json", content: "{\\"version\\": 2}\\n"}
            - name: Point current at release 2
              shell: ln -sfn releases/2 [=app]/current.tmp && mv -T [=app]/current.tmp [=app]/current && sleep [=slow]
              rollback:
                - name: Point current back at release 1
                  shell: ln -sfn releases/1 [=app]/current.tmp && mv -T [=app]/current.tmp [=app]/current && sleep [=slow] && echo switch-back >> [=logs]/undo.log
          verify:
            - name: Release 2 answers
              shell: test "$(cat [=app]/current/app.txt)" = v2 && test "[=inventory_hostname]" != "[=fail_on]"
          cleanup:
            - name: Remove release 1 (a rollback would need it)
              shell: rm -rf [=app]/releases/1
        """
            .formatted(APP, LOGS, BACKUPS));
  }

  static void reset() {
    for (SshHost h : fleet.hosts()) {
      h.exec(
          "sh",
          "-c",
          "rm -rf /var/tmp/runbook.lock* "
              + APP
              + " "
              + LOGS
              + " "
              + BACKUPS
              + " && runuser -u runbook -- sh -c 'mkdir -p "
              + APP
              + "/releases/1 "
              + LOGS
              + " && cd "
              + APP
              + " && echo v1 > releases/1/app.txt && ln -s releases/1 current && printf \"{\\\"version\\\": 1}\\n\" > config.json"
              + " && sqlite3 data.db \"create table t(v); insert into t values(\\\"seed\\\")\"'");
    }
  }

  /**
   * Every file with its checksum, the link, and the rows: what "byte-identical to before" compares.
   */
  static String snapshot(SshHost h) {
    return h.exec(
        "sh",
        "-c",
        "cd "
            + APP
            + " && find . | sort && find . -type f ! -name data.db -exec sha256sum {} + | sort"
            + " && readlink current && sqlite3 data.db 'select * from t order by rowid'");
  }

  /**
   * On release 2 with its config and migration; release 1 may still be there if the cleanup did not
   * run.
   */
  static boolean upgraded(SshHost h) {
    String s =
        h.exec(
            "sh",
            "-c",
            "cd "
                + APP
                + " && readlink current; cat current/app.txt 2>/dev/null; cat config.json;"
                + " ls releases | grep -v '^1$'; sqlite3 data.db 'select * from t order by rowid'");
    return s.equals("releases/2\nv2\n{\"version\": 2}\n2\nseed\nmigrated\n");
  }

  static List<String> log(SshHost h, String file) {
    String out = h.exec("sh", "-c", "cat " + LOGS + "/" + file + " 2>/dev/null || true");
    return out.isBlank() ? List.of() : out.strip().lines().toList();
  }

  // ---------------------------------------------------------------- checking

  private String where = "";

  /**
   * Per host, the handlers that were in flight when a controller was killed: they may finish twice.
   */
  private Map<String, List<String>> rerunnable = new HashMap<>();

  static final Map<String, String> HANDLER_LOG =
      Map.of(
          "Remove release 2", "remove-release", "Point current back at release 1", "switch-back");

  /**
   * The rollback handlers a killed controller had started and not finished, from the journal up to
   * the kill.
   */
  static Map<String, List<String>> inFlightHandlers(List<String> journal) {
    Map<String, List<String>> open = new HashMap<>();
    Pattern p =
        Pattern.compile(
            "\"event\":\"step_(started|finished)\",.*?\"host\":\"([^\"]+)\".*?\"name\":\"([^\"]+)\".*\"rollback\":true");
    for (String line : journal) {
      if (line.contains("\"event\":\"run_resumed\"")) break;
      Matcher m = p.matcher(line);
      if (!m.find() || !HANDLER_LOG.containsKey(m.group(3))) continue;
      List<String> l = open.computeIfAbsent(m.group(2), k -> new ArrayList<>());
      if (m.group(1).equals("started")) l.add(HANDLER_LOG.get(m.group(3)));
      else l.remove(HANDLER_LOG.get(m.group(3)));
    }
    return open;
  }

  void check(boolean holds, String what) {
    invariants++;
    if (!holds) {
      violated++;
      violations.add(where + ": " + what);
    }
  }

  /** Every host fully upgraded or exactly as before; returns the hosts that are as before. */
  List<String> wholeHosts(Map<String, String> before, String after) {
    List<String> asBefore = new ArrayList<>();
    for (SshHost h : fleet.hosts()) {
      String now = snapshot(h);
      boolean same = now.equals(before.get(h.name()));
      check(
          same || upgraded(h),
          h.name() + " is neither upgraded nor as before after " + after + ":\n" + now);
      if (same) asBefore.add(h.name());
      check(
          log(h, "forward.log").stream().filter("pull"::equals).count() <= 1,
          h.name()
              + ": the non-idempotent 'Create release 2' ran more than once: "
              + log(h, "forward.log"));
      // Handlers log when they are done. One that finished as journaled never runs again; one the
      // dead
      // controller was running when it died (its outcome unknown to the journal) is run again by
      // the next.
      List<String> undo = new ArrayList<>(log(h, "undo.log"));
      for (String again : rerunnable.getOrDefault(h.name(), List.of())) undo.remove(again);
      check(
          undo.stream().distinct().count() == undo.size(),
          h.name() + ": an undo handler finished twice: " + undo);
      check(
          h.exec("sh", "-c", "ls -d /var/tmp/runbook.lock 2>/dev/null || true").isBlank(),
          h.name() + ": a lock was left behind after " + after);
    }
    return asBefore;
  }

  /**
   * Each piece of undo work finished at most once per host, over every controller that wrote the
   * journal.
   */
  void undoneOnce(Path state, String runId) throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    Pattern p =
        Pattern.compile(
            "\"event\":\"step_finished\",.*\"host\":\"([^\"]+)\".*\"rollback\":true.*\"undo\":\"([^\"]+)\"");
    for (String line : Files.readAllLines(state.resolve("runs/" + runId + "/journal.jsonl"))) {
      Matcher m = p.matcher(line);
      if (m.find() && !line.contains("\"status\":\"FAILED\""))
        seen.merge(m.group(1) + " " + m.group(2), 1, Integer::sum);
    }
    seen.forEach((k, n) -> check(n == 1, "undo work " + k + " finished " + n + " times"));
  }

  // ---------------------------------------------------------------- running

  Run cli(Path state, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--yes",
            "--state-dir",
            state.toString(),
            "--known-hosts",
            fleet.knownHostsFile().toString()));
    if (args[0].equals("resume") || args[0].equals("rollback"))
      all.addAll(List.of("--orphan-wait", "30"));
    return Cli.runMerged(all);
  }

  /** A controller in its own process, so that it can be killed with SIGKILL. */
  Process controller(
      Path state, Path rb, Path inventory, String policy, String failOn, Map<String, String> env)
      throws Exception {
    ProcessBuilder pb =
        Cli.child(
            tmp.resolve("controller-" + cases + ".log"),
            List.of(
                "apply",
                rb.toString(),
                "-i",
                inventory.toString(),
                "--yes",
                "--forks",
                "4",
                "--on-failure",
                policy,
                "--known-hosts",
                fleet.knownHostsFile().toString(),
                "--state-dir",
                state.toString(),
                "-e",
                "fail_on=" + failOn));
    pb.environment().putAll(env);
    return pb.start();
  }

  static List<String> journalLines(Path state) throws Exception {
    Path runs = state.resolve("runs");
    if (!Files.isDirectory(runs)) return List.of();
    try (var dirs = Files.list(runs)) {
      for (Path d : dirs.toList()) {
        Path j = d.resolve("journal.jsonl");
        if (Files.exists(j))
          return new String(Files.readAllBytes(j), StandardCharsets.UTF_8).lines().toList();
      }
    }
    return List.of();
  }

  static String runId(Path state) throws Exception {
    try (var dirs = Files.list(state.resolve("runs"))) {
      return dirs.findFirst().orElseThrow().getFileName().toString();
    }
  }

  /**
   * Kill when the journal has {@code lines} lines, or holds a line containing {@code marker} (then
   * after {@code extraMillis}).
   */
  record KillAt(int lines, String marker, long extraMillis) {
    String describe() {
      return lines > 0 ? "at journal line " + lines : "inside '" + marker + "'";
    }
  }

  /**
   * One case: the run (killed or not), then resume, rollback and rollback again, with every
   * invariant checked on the hosts after each. Returns the journal's line count when the run was
   * not killed.
   */
  int runCase(String policy, String failOn, KillAt kill) throws Exception {
    cases++;
    reset();
    Path state = Files.createDirectories(tmp.resolve("state-" + cases));
    Path rb = runbook();
    Path inventory = fleet.writeInventory(tmp.resolve("inv.yaml"));
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) before.put(h.name(), snapshot(h));
    where =
        "case "
            + cases
            + " ("
            + policy
            + ", failing "
            + failOn
            + ", kill "
            + (kill == null ? "none" : kill.describe())
            + ")";

    Process p = controller(state, rb, inventory, policy, failOn, Map.of());
    boolean killed = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (p.isAlive() && System.nanoTime() < deadline) {
      if (kill != null) {
        List<String> lines = journalLines(state);
        boolean hit =
            kill.lines() > 0
                ? lines.size() >= kill.lines()
                : lines.stream().anyMatch(l -> l.contains(kill.marker()));
        if (hit) {
          if (kill.extraMillis() > 0) Thread.sleep(kill.extraMillis());
          p.destroyForcibly().waitFor(); // SIGKILL
          killed = true;
          break;
        }
      }
      Thread.sleep(15);
    }
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(where + ": the controller ended").isTrue();
    String id = runId(state);
    int lines = journalLines(state).size();
    boolean finished =
        journalLines(state).stream().anyMatch(l -> l.contains("\"event\":\"run_finished\""));
    if (!killed) check(p.exitValue() == 0 || p.exitValue() == 2, "the run exited " + p.exitValue());

    rerunnable = killed ? inFlightHandlers(journalLines(state)) : new HashMap<>();
    if (!finished) {
      Run resumed = cli(state, "resume", id);
      check(
          resumed.code() == 0 || resumed.code() == 2,
          "resume exited " + resumed.code() + ":\n" + resumed.out());
    }
    List<String> asBefore = wholeHosts(before, finished ? "the run" : "resume");
    // Rows written after the run, on hosts the run left as they were, must survive any rollback of
    // it.
    Map<String, String> expected = new LinkedHashMap<>(before);
    for (String name : asBefore) {
      SshHost h = fleet.host(name);
      h.exec(
          "runuser",
          "-u",
          "runbook",
          "--",
          "sqlite3",
          APP + "/data.db",
          "insert into t values('written after the run')");
      expected.put(name, snapshot(h));
    }

    Run rollback = cli(state, "rollback", id);
    String limit = null;
    if (rollback.code() == 4 && rollback.out().contains("cannot be undone")) {
      // Hosts whose cleanup removed release 1 are refused, untouched: they stay upgraded.
      Matcher m = Pattern.compile("--limit '([^']+)'").matcher(rollback.out());
      check(m.find(), "the refusal names the hosts to leave out: " + rollback.out());
      limit = m.group(1);
      for (String name : limit.replace("!", "").split(",", -1)) {
        check(
            upgraded(fleet.host(name)),
            name + " was refused for its cleanup, so it must be upgraded");
        expected.put(name, snapshot(fleet.host(name)));
      }
      rollback = cli(state, "rollback", id, "--limit", limit);
    }
    check(
        rollback.code() == 0 || rollback.code() == 2 || rollback.out().contains("matches no host"),
        "rollback exited " + rollback.code() + ":\n" + rollback.out());
    for (SshHost h : fleet.hosts()) {
      String now = snapshot(h);
      check(
          now.equals(expected.get(h.name())),
          h.name()
              + " is not as before after rollback:\n"
              + now
              + "\nexpected:\n"
              + expected.get(h.name())
              + "\n"
              + rollback.out());
    }
    wholeHosts(expected, "rollback");

    Run again =
        limit == null ? cli(state, "rollback", id) : cli(state, "rollback", id, "--limit", limit);
    check(
        (again.code() == 0 && again.out().contains("Nothing to undo"))
            || again.out().contains("matches no host"),
        "a second rollback did something: " + again.out());
    for (SshHost h : fleet.hosts())
      check(snapshot(h).equals(expected.get(h.name())), h.name() + " changed on a second rollback");
    undoneOnce(state, id);
    return killed ? -1 : lines;
  }

  @Test
  void everyPolicyAndFailingBatchSurvivesAKilledControllerResumeAndRollbacks() throws Exception {
    Random random = new Random(SEED);
    List<String> slow =
        List.of(
            "Create release 2",
            "Migrate the database",
            "Install the new config",
            "Point current at release 2",
            "Remove release 2",
            "Point current back at release 1");
    int combo = 0;
    for (String policy : POLICIES) {
      for (String failOn : List.of("h1", "h3")) { // batch 1 is [h1], batch 2 is [h2, h3, h4]
        int total = runCase(policy, failOn, null);
        int line = 3 + random.nextInt(Math.max(1, total - 3));
        runCase(policy, failOn, new KillAt(line, null, 0));
        String step = slow.get(combo++ % slow.size());
        runCase(
            policy, failOn, new KillAt(0, "\"name\":\"" + step + "\"", 150 + random.nextInt(300)));
      }
    }
    assertThat(violations)
        .as("seed " + SEED)
        .isEmpty(); // JUnit makes a new instance per test: these are its own
  }

  @Test
  void aSecondControllerResumingALiveRunTakesItOverAndTheFirstStops() throws Exception {
    cases++;
    reset();
    where = "case " + cases + " (resume of a live run)";
    Path state = Files.createDirectories(tmp.resolve("state-live"));
    Path inventory = fleet.writeInventory(tmp.resolve("inv.yaml"));
    Map<String, String> before = new LinkedHashMap<>();
    for (SshHost h : fleet.hosts()) before.put(h.name(), snapshot(h));
    Process first = controller(state, runbook(), inventory, "rollback-host", "none", Map.of());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (journalLines(state).stream()
        .noneMatch(l -> l.contains("\"host\":\"h3\"") && l.contains("Migrate the database"))) {
      assertThat(System.nanoTime()).as("batch 2 reached its migration").isLessThan(deadline);
      Thread.sleep(15);
    }

    Run second = cli(state, "resume", runId(state));

    assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String firstOut = Files.readString(tmp.resolve("controller-" + cases + ".log"));
    check(
        second.code() == 0 || second.code() == 2,
        "the second controller exited " + second.code() + ":\n" + second.out());
    check(
        first.exitValue() != 0,
        "the first controller did not notice it was taken over:\n" + firstOut);
    check(
        firstOut.contains("taken over by another controller") || firstOut.contains("LOCK LOST"),
        "the first controller did not say it was taken over:\n" + firstOut);
    wholeHosts(before, "a resume of a live run");
    for (SshHost h : fleet.hosts()) {
      check(
          log(h, "forward.log").stream().filter("migrate"::equals).count() <= 1,
          h.name() + " migrated twice");
    }
    assertThat(violations).isEmpty();
  }

  @Test
  void aJournalWhoseDiskFillsUpStopsTheRunRollsBackTheHostsInProgressAndKeepsTheJournal()
      throws Exception {
    cases++;
    reset();
    where = "case " + cases + " (journal disk full)";
    Path state = Files.createDirectories(tmp.resolve("state-full"));
    Path fallback = Files.createDirectories(tmp.resolve("fallback"));
    mount(state);
    try {
      Path inventory = fleet.writeInventory(tmp.resolve("inv.yaml"));
      Map<String, String> before = new LinkedHashMap<>();
      for (SshHost h : fleet.hosts()) before.put(h.name(), snapshot(h));
      Process p =
          controller(
              state,
              runbook(),
              inventory,
              "rollback-host",
              "none",
              Map.of("RUNBOOK_FALLBACK_DIR", fallback.toString()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (journalLines(state).stream()
          .noneMatch(l -> l.contains("\"host\":\"h2\"") && l.contains("Create release 2"))) {
        assertThat(System.nanoTime()).as("batch 2 reached its pull").isLessThan(deadline);
        Thread.sleep(15);
      }
      // fill the journal's file system while batch 2 is in its slow steps
      new ProcessBuilder(
              "sh",
              "-c",
              "dd if=/dev/zero of=" + state.resolve("fill") + " bs=4k 2>/dev/null; true")
          .start()
          .waitFor();
      assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
      String out = Files.readString(tmp.resolve("controller-" + cases + ".log"));
      check(
          p.exitValue() == 2,
          "a full journal disk should stop the run with its hosts rolled back (exit 2), not "
              + p.exitValue()
              + ":\n"
              + out);
      check(
          out.contains("cannot write the run journal") && out.contains(fallback.toString()),
          "the recap says what happened and where the journal is:\n" + out);
      String id = runId(state);
      Path kept = fallback.resolve(id + ".journal.jsonl");
      check(
          Files.exists(kept) && Files.readString(kept).contains("\"event\":\"run_finished\""),
          "the whole journal is in the fallback file");
      List<String> asBefore = wholeHosts(before, "a full journal disk");
      check(
          asBefore.containsAll(List.of("h2", "h3", "h4")),
          "the hosts in progress were rolled back: " + asBefore);
      check(
          upgraded(fleet.host("h1")),
          "h1 (batch 1, done before the disk filled) keeps its upgrade");
      new ProcessBuilder("rm", "-f", state.resolve("fill").toString()).start().waitFor();
      // rollback reads the fallback journal (putting it back in place): h1's cleanup ran, so h1 is
      // refused
      // untouched, and h2..h4 were rolled back during the run already
      Map<String, String> now = new LinkedHashMap<>();
      for (SshHost h : fleet.hosts()) now.put(h.name(), snapshot(h));
      String refused = rollbackProcess(state, fallback, id);
      check(
          refused.contains("cannot roll back h1") && refused.contains("--limit '!h1'"),
          "h1 refused:\n" + refused);
      String rest = rollbackProcess(state, fallback, id, "--limit", "!h1");
      check(rest.contains("Nothing to undo"), "nothing else to undo:\n" + rest);
      for (SshHost h : fleet.hosts())
        check(snapshot(h).equals(now.get(h.name())), h.name() + " changed:\n" + refused + rest);
    } finally {
      new ProcessBuilder("umount", state.toString()).start().waitFor();
    }
    assertThat(violations).isEmpty();
  }

  String rollbackProcess(Path state, Path fallback, String id, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "rollback",
                id,
                "--yes",
                "--state-dir",
                state.toString(),
                "--known-hosts",
                fleet.knownHostsFile().toString()));
    args.addAll(List.of(more));
    Path log = Files.createTempFile(tmp, "rollback", ".log");
    ProcessBuilder pb = Cli.child(log, args);
    pb.environment().put("RUNBOOK_FALLBACK_DIR", fallback.toString());
    Process r = pb.start();
    assertThat(r.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return "exit " + r.exitValue() + "\n" + Files.readString(log);
  }

  /** A small file system of its own under the state directory, so that it can fill up. */
  static void mount(Path dir) throws Exception {
    Process m =
        new ProcessBuilder(
                "mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(m.waitFor())
        .as("mounting a tmpfs (the test runs as root, as CI does): " + out)
        .isZero();
  }
}
