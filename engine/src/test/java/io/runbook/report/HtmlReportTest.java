package io.runbook.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.journal.DamagedJournalTest;
import io.runbook.report.ReportReaderTest.Journal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The page as text: escaped, self-contained, with the timeline and sections it promises. */
class HtmlReportTest {
  static final String XSS = "<script>alert(1)</script>";

  @TempDir Path tmp;

  String render(Journal j) throws Exception {
    return HtmlReport.render(
        ReportReader.read(j.write(tmp.resolve("runs/r1"))),
        "runbook test",
        Instant.parse("2026-11-21T12:00:00Z"));
  }

  /** A host, a step and outputs whose text is HTML. */
  static Journal hostile() {
    return new Journal()
        .at(
            0,
            "run_started",
            "\"runId\":\"r1\",\"runbook\":\"x.yaml\",\"runbookName\":\"<b>bold</b>\","
                + "\"hosts\":[\"web\\\"1\"]")
        .step(
            "web\\\"1",
            "deploy",
            1,
            "<img src=x onerror=alert(2)>",
            10,
            20,
            "FAILED",
            "\"rc\":1,\"stdout\":\""
                + XSS
                + "\\n\",\"stderr\":\"</pre><a href='https://evil.example/'>x</a>\","
                + "\"message\":\"</td>&amp;\"");
  }

  @Test
  void everythingFromTheJournalIsText() throws Exception {
    String html = render(hostile());

    assertThat(html)
        .doesNotContainIgnoringCase("<script")
        .doesNotContain("<img")
        .doesNotContain("<b>bold")
        .doesNotContain("<a href='https")
        .doesNotContain("</td>&amp;");
    assertThat(html)
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .contains("&lt;img src=x onerror=alert(2)&gt;")
        .contains("&lt;/pre&gt;&lt;a href=&#39;https://evil.example/&#39;&gt;x&lt;/a&gt;")
        .contains("&lt;/td&gt;&amp;amp;")
        .contains("web&quot;1");
    assertThat(html).as("no host has a mode: no column for it").doesNotContain("<th>Mode</th>");
  }

  String renderRehearsal(Journal j, String verdict) throws Exception {
    Path journal = j.write(tmp.resolve("runs/r1"));
    Files.writeString(
        journal.resolveSibling("rehearsal.json"),
        """
        {"run_id": "r1", "kind": "rehearsal", "runbook": "/srv/upgrade-v2.yaml", "inventory": "/srv/prod.yaml",
         "plan_hash": "0123456789abcdef", "millis": 93000, "copies": {"h1": "runbook-rehearsal-r1-h1"},
         "upgrade": {"exit_code": 0, "millis": 51000}, "rollback": {"exit_code": 2, "millis": 1500},
         "hosts": {"h1": {"downtime": {"measured": true, "millis": 2200, "client_ms": 900}}},
         "verdict": %s}
        """
            .formatted(verdict));
    return HtmlReport.render(
        ReportReader.read(journal), "runbook test", Instant.parse("2026-11-21T12:00:00Z"));
  }

  /**
   * Issue 14, observation 3: a passed rehearsal's page showed an orange "rolled back · exit 2"
   * badge, a red box of the rehearsal's own rollback, and the rollback's duration. Its header is
   * now the verdict.
   */
  @Test
  void aRehearsalsPageLeadsWithItsVerdictAndFigures() throws Exception {
    String passed =
        renderRehearsal(
            ReportReaderTest.fleet(),
            """
        {"state": "passed", "exit_code": 0, "upgrade_passed": true, "rollback_clean": true, "restored": true,
         "failures": [], "warnings": []}""");
    String header = passed.replaceAll("(?s).*(<header class=\"top\">.*?</header>).*", "$1");
    assertThat(header)
        .contains("REHEARSAL PASSED · exit 0")
        .contains("o-succeeded")
        .contains(
            "rehearsed /srv/upgrade-v2.yaml · plan 01234567 · on disposable copies: h1 → runbook-rehearsal-r1-h1")
        .contains("upgrade passed in 51s")
        .contains("rollback 1.5s")
        .contains("h1 down 900ms as a client saw it (steps 2.2s)")
        .doesNotContain("rolled back")
        .doesNotContain("exit 2");
    assertThat(passed)
        .doesNotContain("class=\"problems\"")
        .contains("1m33s (the whole rehearsal")
        .contains("0 — the upgrade and the rollback passed on the copies");

    String failed =
        renderRehearsal(
            ReportReaderTest.fleet(),
            """
        {"state": "failed", "exit_code": 2, "upgrade_passed": false, "rollback_clean": true, "restored": true,
         "failures": ["upgrade on h1: rolled back after '<verify>' failed"], "warnings": ["h1: stale backup"]}""");
    assertThat(failed)
        .contains("REHEARSAL FAILED · exit 2")
        .contains("o-failed")
        .contains("<section class=\"problems\">")
        .contains("upgrade on h1: rolled back after &#39;&lt;verify&gt;&#39; failed")
        .contains("warning: h1: stale backup");
  }

  /**
   * Issue 14: the downtime a client saw during a real apply ({@code apply --measure-downtime}
   * writes downtime.json beside the journal) is in the run's report, not only in the console.
   */
  @Test
  void anApplysMeasuredDowntimeIsInItsReport() throws Exception {
    Path journal = ReportReaderTest.fleet().write(tmp.resolve("runs/r1"));
    String without =
        HtmlReport.render(
            ReportReader.read(journal), "runbook test", Instant.parse("2026-11-21T12:00:00Z"));
    assertThat(without).doesNotContain("<dt>Downtime</dt>");
    Files.writeString(
        journal.resolveSibling("downtime.json"),
        """
        {"h1": {"client_ms": 812, "health_url": "http://127.0.0.1:8080/_health"},
         "h2": {"client_ms": 1450, "health_url": "http://127.0.0.1:8080/_health"}}
        """);
    String html =
        HtmlReport.render(
            ReportReader.read(journal), "runbook test", Instant.parse("2026-11-21T12:00:00Z"));
    assertThat(html).contains("<dt>Downtime</dt><dd>h1 812ms, h2 1.45s (as its health URL saw it");
  }

  @Test
  void thePageNeedsNothingOutsideItself() throws Exception {
    String html = render(ReportReaderTest.fleet());

    assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n");
    assertThat(html)
        .doesNotContainIgnoringCase("<script")
        .doesNotContainIgnoringCase("<link")
        .doesNotContainIgnoringCase("@import")
        .doesNotContainIgnoringCase("@font-face")
        .doesNotContainIgnoringCase("<img")
        .doesNotContainIgnoringCase("<iframe");
    // the SVG namespace is a name, not a fetch; every other reference stays inside the page
    Matcher refs = Pattern.compile("(?:href|src)=\"([^\"]*)\"|url\\(([^)]*)\\)").matcher(html);
    int n = 0;
    while (refs.find()) {
      String ref = refs.group(1) != null ? refs.group(1) : refs.group(2);
      assertThat(ref).as("reference %s", ref).startsWith("#");
      n++;
    }
    assertThat(n).as("links from bars and hosts to their sections").isGreaterThan(15);
    assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", ""))
        .doesNotContain("http://")
        .doesNotContain("https://");
  }

  @Test
  void theTimelineDrawsEachStepBatchGateAndRollback() throws Exception {
    String html = render(ReportReaderTest.fleet());
    String svg = html.substring(html.indexOf("<svg"), html.indexOf("</svg>"));

    assertThat(count(svg, "class=\"bar\"")).as("one bar per step").isEqualTo(13);
    assertThat(count(svg, "fill=\"" + Html.FAILED + "\""))
        .as("the failed migration, and its marker")
        .isEqualTo(2);
    assertThat(count(svg, "fill=\"" + Html.UNDO + "\"")).as("rollback handlers").isEqualTo(2);
    assertThat(count(svg, "stroke=\"" + Html.GATE + "\"")).as("gate steps outlined").isEqualTo(2);
    assertThat(count(svg, "class=\"rollback\"")).isEqualTo(1);
    assertThat(svg)
        .contains(">batch 1/2 → continue</text>")
        .contains(">batch 2/2 · 1 failed → done</text>");
    assertThat(svg).contains("stroke=\"" + Html.FRAME + "\"");
    assertThat(html.replaceFirst("stroke=\"" + Html.FRAME + "\"", ""))
        .as("the frame colour is the timeline's alone")
        .doesNotContain(Html.FRAME);
    // c's migration: 520..600 ms of a 1000 ms run, on a plot from x=190 to x=1284
    assertThat(svg)
        .contains(
            "<rect class=\"bar\" x=\"759\" y=\""
                + (TimelineSvg.TOP + 2 * 22 + 4)
                + "\" width=\"86\"");
  }

  @Test
  void theRecapHostsAndOutputsAreThere() throws Exception {
    String html = render(ReportReaderTest.fleet());

    assertThat(html)
        .contains("<h1>Up</h1>")
        .contains("rolled back · exit 2")
        .contains("2 — some host failed and was rolled back cleanly")
        .contains("ann on laptop")
        .contains("2026-11-21 10:00:00 UTC")
        .contains("2026-11-21 10:00:01 UTC");
    assertThat(html)
        .contains(
            "<li class=\"pf\"><a href=\"#host-2\">c</a>: 'Migrate' failed: exit code 1: duplicate column</li>");
    assertThat(html)
        .containsPattern(
            "<td><a href=\"#host-2\">c</a></td><td>binary</td><td>2</td><td><span class=\"badge "
                + "o-rolled-back\">rolled back</span></td><td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">1</td>"
                + "<td class=\"n z\">0</td><td class=\"n\">2</td><td class=\"n\">650ms</td></tr>");
    assertThat(html)
        .contains(
            "<details open><summary>output · rc 1 · stdout 1 line · stderr 1 line</summary>"
                + "<pre class=\"out\">applying 0007</pre><pre class=\"err\">duplicate column</pre></details>");
    assertThat(html)
        .contains(
            "↺ rollback at +605ms after 'Migrate' failed: Back up ← Restore → rollback phase: Health again");
    assertThat(html).contains("lock: taken +20ms · released +800ms");
    assertThat(html).doesNotContain("id=\"rehearsal\"");
  }

  @Test
  void aRehearsalIsATableOfItsFields() throws Exception {
    Path journal = ReportReaderTest.fleet().write(tmp.resolve("runs/r1"));
    Files.writeString(
        journal.resolveSibling("rehearsal.json"),
        """
        {"verdict": "safe", "restore": {"seconds": 12, "checked": true},
         "hosts": [{"host": "a", "restored": "<ok>"}, {"host": "b", "extra": 1}], "notes": ["x", null],
         "warnings": ["migration 0007 took 12 s, on a copy", "b"]}""");
    String html = HtmlReport.render(ReportReader.read(journal), "runbook test", Instant.now());
    String section =
        html.substring(
            html.indexOf("<section id=\"rehearsal\">"), html.indexOf("<section id=\"hosts\">"));

    assertThat(section)
        .contains("<tr><th>verdict</th><td>safe</td></tr>")
        .contains(
            "<tr><th>restore</th><td><table class=\"kv\"><tbody><tr><th>seconds</th><td>12</td></tr>"
                + "<tr><th>checked</th><td>true</td></tr></tbody></table></td></tr>")
        .contains("<thead><tr><th>host</th><th>restored</th><th>extra</th></tr></thead>")
        .contains("<td>&lt;ok&gt;</td>")
        .contains("<tr><th>notes</th><td>x, —</td></tr>")
        .contains(
            "<tr><th>warnings</th><td><ul class=\"jl\"><li>migration 0007 took 12 s, on a copy</li><li>b</li></ul>");
    assertThat(html).contains("<div class=\"brand\">runbook · rehearsal report</div>");
  }

  @Test
  void twoHundredHostsStayCompact() throws Exception {
    Journal j = new Journal();
    StringBuilder hosts = new StringBuilder();
    for (int i = 0; i < 200; i++)
      hosts.append(i == 0 ? "" : ",").append("\"h").append(i).append('"');
    j.at(0, "run_started", "\"runId\":\"big\",\"hosts\":[" + hosts + "]");
    for (int i = 0; i < 200; i++) {
      for (int s = 0; s < 10; s++)
        j.step(
            "h" + i,
            "deploy",
            s,
            "Step " + s,
            i + s * 100L,
            i + s * 100L + 50,
            "CHANGED",
            "\"stdout\":\"" + "x".repeat(10_000) + "\"");
    }
    String html = render(j);

    assertThat(count(html, "class=\"bar\"")).isEqualTo(2000);
    assertThat(html).contains("<div class=\"tlwrap tall\">");
    assertThat(html)
        .contains("height=\"" + (TimelineSvg.TOP + 200 * 12 + TimelineSvg.BOTTOM) + "\"");
    assertThat(html).contains("… (6000 earlier characters are in the journal)");
    assertThat(html.length()).as("passing steps' outputs are cut").isLessThan(12_000_000);
  }

  @Test
  void aLargeRunPutsTheHostsThatNeedALookFirst() throws Exception {
    Journal j = new Journal();
    StringBuilder hosts = new StringBuilder(), results = new StringBuilder();
    for (int i = 0; i < 60; i++)
      hosts.append(i == 0 ? "" : ",").append("\"h").append(i).append('"');
    j.at(0, "run_started", "\"runId\":\"big\",\"hosts\":[" + hosts + "]");
    for (int i = 0; i < 60; i++) {
      boolean fails = i % 2 == 1 && i < 50; // 25 hosts fail: more than the box of problems lists
      j.step(
          "h" + i,
          "deploy",
          1,
          "Deploy",
          10,
          20,
          fails ? "FAILED" : "CHANGED",
          fails ? "\"message\":\"boom " + i + "\"" : "");
      String r =
          ReportReaderTest.hostResult(
              "h" + i, fails ? "ROLLED_BACK" : "SUCCEEDED", 0, 1, fails ? 1 : 0, 0, 10);
      if (fails) r = r.replace("}", ",\"failedStep\":\"Deploy\",\"message\":\"boom " + i + "\"}");
      j.at(30, "host_finished", "\"result\":" + r);
      results.append(i == 0 ? "" : ",").append(r);
    }
    j.at(
        40,
        "run_finished",
        "\"result\":{\"runId\":\"big\",\"hosts\":[" + results + "],\"durationMillis\":40}");
    String html = render(j);
    String recap =
        html.substring(
            html.indexOf("<section id=\"recap\">"), html.indexOf("<section id=\"timeline\">"));

    String first = recap.substring(0, recap.indexOf("<details"));
    assertThat(count(first, "<tr><td>")).as("the failed hosts, unfolded").isEqualTo(25);
    assertThat(first).contains(">h1</a>").doesNotContain(">h0</a>");
    assertThat(recap)
        .contains("<details class=\"fold\"><summary>35 more host(s) ended ok</summary>");
    assertThat(count(recap.substring(recap.indexOf("<details")), "<tr><td>")).isEqualTo(35);
    String problems =
        html.substring(
            html.indexOf("<section class=\"problems\">"), html.indexOf("<section id=\"recap\">"));
    assertThat(count(problems, "<li")).isEqualTo(HtmlReport.MAX_PROBLEMS + 1);
    assertThat(problems).contains("<li>… and 5 more: see the recap and the hosts below</li>");
    assertThat(html)
        .contains("<details><summary>1 step(s)</summary>"); // a host that ended ok, folded
  }

  @Test
  void durationsAndTicksReadNaturally() {
    assertThat(Html.duration(0)).isEqualTo("0ms");
    assertThat(Html.duration(999)).isEqualTo("999ms");
    assertThat(Html.duration(1000)).isEqualTo("1s");
    assertThat(Html.duration(1250)).isEqualTo("1.25s");
    assertThat(Html.duration(42_400)).isEqualTo("42s");
    assertThat(Html.duration(185_000)).isEqualTo("3m05s");
    assertThat(Html.duration(3_720_000)).isEqualTo("1h02m");
    assertThat(TimelineSvg.tickStep(943)).isEqualTo(200);
    assertThat(TimelineSvg.tickStep(60_000)).isEqualTo(10_000);
    assertThat(TimelineSvg.tickStep(1)).isEqualTo(1);
  }

  static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) n++;
    return n;
  }

  @Test
  void damagedLinesAnOrphanedCommandAndALostLockAreAmongTheProblems() throws Exception {
    String html =
        HtmlReport.render(
            ReportReader.read(DamagedJournalTest.damagedRun(tmp)),
            "runbook test",
            Instant.parse("2026-12-06T12:00:00Z"));

    String problems =
        html.substring(
            html.indexOf("<section class=\"problems\">"),
            html.indexOf("</section>", html.indexOf("<section class=\"problems\">")));
    assertThat(problems)
        .contains(
            "<li class=\"pd\">journal damaged at line 8 (step_finished of h2): what happened there is unknown</li>")
        .contains(
            "<li class=\"pd\">journal cut short at line 13 (run_finished) when its controller stopped</li>")
        .contains(
            "<li class=\"pi\">run 20261206-090000-0ld0&#39;s command was still running on h2: waited 3s, "
                + "stopped it</li>")
        .contains(
            "<li class=\"pi\">lost the lock of h1 to run 20261206-100500-n3w0 (bob@box2): stopped changing "
                + "that host</li>");
    assertThat(html)
        .contains("<title>h1: lock lost to 20261206-100500-n3w0 (bob@box2) at +3.3s</title>");
  }
}
