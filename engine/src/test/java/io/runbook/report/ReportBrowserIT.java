package io.runbook.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.runbook.testing.Cli;
import io.runbook.testing.Cli.Run;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report of a real run, opened in a real headless browser (Debian's chromium): a four-host
 * canary rollout on this machine ({@code ansible_connection: local}) where one host's migration
 * fails and rolls back. The screenshot's pixels must show the timeline with the exact colours of a
 * failure, of changes and of the undo, in the rows of the hosts they belong to; the DOM the browser
 * built must hold a step's {@code <script>} output as text and run no script at all.
 *
 * <p>The screenshot and page stay in {@code target/report-browser/} to look at.
 */
class ReportBrowserIT {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final int WIDTH = 1400;
  static final int HEIGHT = 1000;

  @TempDir Path tmp;
  Path inventory;
  Path runbook;

  @BeforeEach
  void files() throws Exception {
    inventory = tmp.resolve("inv.yaml");
    Files.writeString(
        inventory,
        """
        all:
          vars: {work: %s/work, runbook_lock_path: %s/lock}
          children:
            web:
              hosts:
                web1: {ansible_connection: local}
                web2: {ansible_connection: local}
                web3: {ansible_connection: local}
                web4: {ansible_connection: local}
        """
            .formatted(tmp, tmp));
    runbook = tmp.resolve("upgrade.yaml");
    Files.writeString(
        runbook,
        """
        apiVersion: runbook/v1
        kind: Runbook
        name: Upgrade web to 2.0.0
        hosts: web
        rollout:
          serial: [1, "100%"]
          max_fail_percentage: 50
          gate:
            - name: Answers on /_health
              shell: sleep 0.1; echo '{"version":"2.0.0"}'
        phases:
          preflight:
            - name: Read the installed version
              shell: echo 1.2.3
              changed_when: false
          backup:
            - name: Back up the database
              shell: mkdir -p "[=work]/[=inventory_hostname]" && sleep 0.15 && echo saved > "[=work]/[=inventory_hostname]/db.bak"
              rollback:
                - name: Restore the database
                  shell: sleep 0.15; cat "[=work]/[=inventory_hostname]/db.bak"
          migrate:
            - name: Apply the 2.0.0 migrations
              shell: |
                echo '<script>document.title="pwned"</script>'
                sleep 0.3
                [#if inventory_hostname == "web3"]echo 'duplicate column name: thread_id' >&2; exit 1[/#if]
          deploy:
            - name: Switch to the new release
              shell: sleep 0.3; echo switched
          rollback:
            - name: Previous release answers again
              shell: sleep 0.1; echo ok
        """);
  }

  static String chromium(Path profile, String... more) throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      fail(
          CHROMIUM
              + " is missing: run scripts/test-env.sh (as root), which installs Debian's chromium");
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile,
                "--window-size=" + WIDTH + "," + HEIGHT));
    cmd.addAll(List.of(more));
    Path log = Files.createTempFile(profile.getParent(), "chromium", ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    byte[] stdout = p.getInputStream().readAllBytes();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("chromium did not finish within 90 s: " + Files.readString(log));
    }
    assertThat(p.exitValue()).as("chromium: " + Files.readString(log)).isZero();
    return new String(stdout, StandardCharsets.UTF_8);
  }

  @Test
  void theBrowserShowsTheTimelineInColourAndRunsNoScriptFromTheJournal() throws Exception {
    String state = tmp.resolve("state").toString();
    Run apply =
        Cli.run(
            "apply", runbook.toString(), "-i", inventory.toString(), "--yes", "--state-dir", state);
    assertThat(apply.code()).as(apply.all()).isEqualTo(2);
    assertThat(Files.readString(tmp.resolve("work/web3/db.bak"))).isEqualTo("saved\n");

    Run report = Cli.run("report", "last", "--state-dir", state);
    assertThat(report.code()).as(report.err()).isZero();
    Path page = Path.of(report.out().strip());
    assertThat(page).exists().hasFileName("report.html");

    Path png = tmp.resolve("screenshot.png");
    chromium(
        Files.createDirectories(tmp.resolve("profile1")),
        "--screenshot=" + png,
        page.toUri().toString());
    Path keep = Files.createDirectories(Path.of("target/report-browser"));
    Files.copy(png, keep.resolve("screenshot.png"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(page, keep.resolve("report.html"), StandardCopyOption.REPLACE_EXISTING);

    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img).as("a PNG at " + png).isNotNull();
    assertThat(img.getWidth()).isEqualTo(WIDTH);
    assertThat(img.getHeight()).isEqualTo(HEIGHT);

    // The timeline's frame has a colour nothing else on the page has: it tells where the plot is on
    // screen.
    int[] box = bounds(img, rgb(Html.FRAME));
    assertThat(box).as("the timeline's frame (%s) is on screen", Html.FRAME).isNotNull();
    int plotWidth = TimelineSvg.WIDTH - TimelineSvg.LABELS - TimelineSvg.RIGHT;
    assertThat(box[2] - box[0] + 1).as("frame width").isBetween(plotWidth, plotWidth + 1);
    assertThat(box[3] - box[1] + 1).as("frame height: four rows").isBetween(4 * 22, 4 * 22 + 1);

    // Rows are in batch order: web1 (the canary), then web2, web3, web4.
    int failedRow3 = count(img, box, 2, rgb(Html.FAILED));
    assertThat(failedRow3).as("red of web3's failed migration").isGreaterThan(300);
    for (int row : new int[] {0, 1, 3}) {
      assertThat(count(img, box, row, rgb(Html.FAILED))).as("no red in row %d", row).isZero();
      assertThat(count(img, box, row, rgb(Html.CHANGED)))
          .as("blue changes in row %d", row)
          .isGreaterThan(300);
      assertThat(count(img, box, row, rgb(Html.UNDO))).as("no undo in row %d", row).isZero();
    }
    assertThat(count(img, box, 2, rgb(Html.UNDO)))
        .as("orange undo steps of web3")
        .isGreaterThan(100);
    assertThat(count(img, box, 0, rgb(Html.OK)) + count(img, box, 1, rgb(Html.OK)))
        .as("green preflight checks")
        .isGreaterThan(10);
    assertThat(count(img, box, 0, rgb(Html.GATE))).as("web1's gate outlined").isGreaterThan(20);
    assertThat(count(img, box, 2, rgb(Html.GATE))).as("web3 failed before the gate").isZero();

    String dom =
        chromium(
            Files.createDirectories(tmp.resolve("profile2")),
            "--dump-dom",
            page.toUri().toString());
    assertThat(dom)
        .contains("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;")
        .contains("duplicate column name: thread_id");
    assertThat(dom).as("no script element at all").doesNotContainIgnoringCase("<script");
    assertThat(dom).contains("<title>run ").doesNotContain("<title>pwned");
  }

  static int rgb(String hex) {
    return Integer.parseInt(hex.substring(1), 16);
  }

  /** {minX, minY, maxX, maxY} of the pixels of exactly this colour, or null. */
  static int[] bounds(BufferedImage img, int rgb) {
    int[] b = null;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) & 0xffffff) != rgb) continue;
        if (b == null) b = new int[] {x, y, x, y};
        b[0] = Math.min(b[0], x);
        b[1] = Math.min(b[1], y);
        b[2] = Math.max(b[2], x);
        b[3] = Math.max(b[3], y);
      }
    }
    return b;
  }

  /** Pixels of exactly this colour inside the frame, in one host's row. */
  static int count(BufferedImage img, int[] box, int row, int rgb) {
    int n = 0;
    for (int y = box[1] + row * 22; y < box[1] + (row + 1) * 22 && y < box[3]; y++) {
      for (int x = box[0] + 1; x < box[2]; x++) {
        if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
      }
    }
    return n;
  }
}
