package io.runbook.report;

import static io.runbook.report.Html.esc;

import com.fasterxml.jackson.databind.JsonNode;
import io.runbook.journal.HostSummary;
import io.runbook.journal.RunSummary;
import io.runbook.rehearsal.RehearsalVerdict;
import io.runbook.report.RunReport.Batch;
import io.runbook.report.RunReport.Host;
import io.runbook.report.RunReport.Kind;
import io.runbook.report.RunReport.Marker;
import io.runbook.report.RunReport.Rollback;
import io.runbook.report.RunReport.Step;
import io.runbook.result.Outcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run as one self-contained HTML page: header, recap, timeline, then every host's steps with
 * their output tails. Inline CSS and SVG only: no script, font or URL outside the file, so it
 * renders offline, attached to an incident ticket. Everything the journal says is escaped.
 */
public final class HtmlReport {
  /**
   * A passing step's output is cut to its last this many characters; a failed or undo step's is
   * kept whole.
   */
  static final int OUTPUT_CAP = 4000;

  /** Above this many hosts, those that succeeded are folded away in the recap and the host list. */
  static final int FOLD = 25;

  /** The box of what went wrong lists this many lines at most. */
  static final int MAX_PROBLEMS = 20;

  private final RunReport run;
  private final StringBuilder out = new StringBuilder(64 * 1024);

  private HtmlReport(RunReport run) {
    this.run = run;
  }

  public static String render(RunReport run, String generator, Instant generatedAt) {
    return new HtmlReport(run).page(generator, generatedAt);
  }

  private String page(String generator, Instant generatedAt) {
    RunSummary s = run.summary();
    String outcome = verdict() != null ? verdict().outcome() : s.outcome().label();
    out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(
            esc(
                "run "
                    + s.runId()
                    + " · "
                    + outcome
                    + " · "
                    + (s.runbookName() != null ? s.runbookName() : String.valueOf(s.runbook()))))
        .append("</title>\n")
        .append("<style>\n")
        .append(css())
        .append("</style>\n</head>\n<body>\n");
    header();
    out.append("<main>\n");
    facts();
    problems();
    recap();
    timeline();
    if (run.rehearsal() != null) {
      out.append("<section id=\"rehearsal\"><h2>Rehearsal</h2>\n")
          .append(JsonTables.render(run.rehearsal()))
          .append("</section>\n");
    }
    hosts();
    out.append("</main>\n<footer>")
        .append(esc(generator))
        .append(" · generated ")
        .append(Html.time(generatedAt))
        .append(" from ")
        .append(esc(s.journal()))
        .append("</footer>\n</body>\n</html>\n");
    return out.toString();
  }

  /**
   * The rehearsal's verdict when this run is a rehearsal (then it, not the journal's recap, is the
   * outcome).
   */
  private RehearsalVerdict verdict() {
    JsonNode r = run.rehearsal();
    if (r == null || r.has("unreadable")) return null;
    return RehearsalVerdict.fromReport(r);
  }

  private void header() {
    RunSummary s = run.summary();
    RehearsalVerdict v = verdict();
    if (v != null) {
      rehearsalHeader(s, v);
      return;
    }
    String outcome = s.outcome().label();
    out.append("<header class=\"top\">\n<div class=\"brand\">runbook · ")
        .append(run.rehearsal() != null ? "rehearsal report" : "run report")
        .append("</div>\n<h1>")
        .append(
            esc(
                s.runbookName() != null
                    ? s.runbookName()
                    : s.runbook() != null ? s.runbook() : s.runId()))
        .append("</h1>\n<div class=\"verdict ")
        .append(Html.outcomeClass(outcome))
        .append("\">")
        .append(esc(outcome))
        .append(run.exitCode() == null ? "" : " · exit " + run.exitCode())
        .append("</div>\n")
        .append("<div class=\"sub\">run ")
        .append(esc(s.runId()))
        .append(" · ")
        .append(esc(s.tally()))
        .append("</div>\n</header>\n");
  }

  /**
   * A rehearsal's header: its verdict, what was rehearsed on which copies, and the figures — not
   * the journal's "rolled back" (rolling back is what a rehearsal does).
   */
  private void rehearsalHeader(RunSummary s, RehearsalVerdict v) {
    JsonNode r = run.rehearsal();
    List<String> copies = new ArrayList<>();
    r.path("copies")
        .fields()
        .forEachRemaining(e -> copies.add(e.getKey() + " → " + e.getValue().asText()));
    List<String> figures = new ArrayList<>();
    if (!r.path("upgrade").isMissingNode() && !r.path("upgrade").isNull()) {
      figures.add(
          "upgrade "
              + (v.upgradePassed() ? "passed" : "FAILED")
              + " in "
              + Html.duration(r.path("upgrade").path("millis").asLong()));
    }
    if (!r.path("rollback").isMissingNode() && !r.path("rollback").isNull()) {
      figures.add("rollback " + Html.duration(r.path("rollback").path("millis").asLong()));
    }
    figures.add(v.rollbackLine());
    r.path("hosts")
        .fields()
        .forEachRemaining(
            e -> {
              JsonNode d = e.getValue().path("downtime");
              if (!d.path("measured").asBoolean()) return;
              figures.add(
                  e.getKey()
                      + " down "
                      + (d.has("client_ms")
                          ? Html.duration(d.path("client_ms").asLong())
                              + " as a client saw it"
                              + (d.has("predicted_client_ms")
                                  ? ", forecast for production "
                                      + Html.duration(d.path("predicted_client_ms").asLong())
                                  : "")
                              + " (steps "
                              + Html.duration(d.path("millis").asLong())
                              + ")"
                          : Html.duration(d.path("millis").asLong())));
            });
    String cls =
        v.passed() ? "o-succeeded" : v.state().equals("interrupted") ? "o-interrupted" : "o-failed";
    out.append(
            "<header class=\"top\">\n<div class=\"brand\">runbook · rehearsal report</div>\n<h1>")
        .append(
            esc(
                s.runbookName() != null
                    ? s.runbookName()
                    : s.runbook() != null ? s.runbook() : s.runId()))
        .append("</h1>\n<div class=\"verdict ")
        .append(cls)
        .append("\">")
        .append(esc(v.headline()))
        .append(" · exit ")
        .append(v.exitCode())
        .append("</div>\n")
        .append("<div class=\"sub\">rehearsed ")
        .append(esc(r.path("runbook").asText()))
        .append(" · plan ")
        .append(
            esc(
                r.path("plan_hash")
                    .asText()
                    .substring(0, Math.min(8, r.path("plan_hash").asText().length()))))
        .append(" · on disposable copies: ")
        .append(esc(copies.isEmpty() ? "none started" : String.join(", ", copies)))
        .append(" · production untouched</div>\n<div class=\"sub\">")
        .append(esc(String.join(" · ", figures)))
        .append("</div>\n</header>\n");
  }

  private void facts() {
    RunSummary s = run.summary();
    RehearsalVerdict v = verdict();
    if (v != null) {
      out.append("<section class=\"facts\"><dl>\n");
      fact("Run id", s.runId());
      fact("Runbook", s.runbook());
      fact("Inventory", run.rehearsal().path("inventory").asText(null));
      fact("Started", Html.time(run.started()));
      fact(
          "Duration",
          run.rehearsal().hasNonNull("millis")
              ? Html.duration(run.rehearsal().path("millis").asLong())
                  + " (the whole rehearsal: copies, seed, upgrade, rollback, teardown)"
              : null);
      fact("Exit code", v.exitCode() + " — " + rehearsalExitMeaning(v.exitCode()));
      fact(
          "Run by",
          s.user() == null
              ? null
              : s.user() + (s.controller() == null ? "" : " on " + s.controller()));
      out.append("</dl></section>\n");
      return;
    }
    out.append("<section class=\"facts\"><dl>\n");
    fact("Run id", s.runId());
    fact("Runbook", s.runbook());
    fact(
        "Inventory",
        s.inventory() == null
            ? null
            : s.inventory()
                + " · "
                + s.hosts().size()
                + " host(s)"
                + (s.forks() == null ? "" : " · forks " + s.forks()));
    fact("Started", Html.time(run.started()));
    fact(
        "Finished",
        run.ended() != null
            ? Html.time(run.ended())
            : "— the journal ends at "
                + Html.time(
                    run.started() == null ? null : run.started().plusMillis(run.spanMillis()))
                + " (controller stopped)");
    fact("Duration", Html.duration(s.durationMillis()));
    fact(
        "Exit code",
        run.exitCode() != null
            ? run.exitCode() + " — " + exitMeaning(run.exitCode())
            : run.ended() == null
                ? "none (the run did not finish)"
                : "unknown (a result this version cannot read)");
    fact(
        "Run by",
        s.user() == null
            ? null
            : s.user() + (s.controller() == null ? "" : " on " + s.controller()));
    if (run.downtime() != null) fact("Downtime", downtimeLine(run.downtime()));
    for (Marker m : run.markers()) {
      fact(
          m.kind().equals("resume") ? "Resumed" : "Rolled back",
          "at +" + Html.duration(m.atMillis()) + (m.text() == null ? "" : " by " + m.text()));
    }
    out.append("</dl></section>\n");
  }

  /**
   * {@code downtime.json} of {@code apply --measure-downtime}: per host, how long its health URL
   * did not answer, as a client polling it saw it (the figure a rehearsal's forecast is compared
   * with).
   */
  static String downtimeLine(JsonNode downtime) {
    if (downtime.has("unreadable")) return downtime.path("unreadable").asText();
    List<String> parts = new ArrayList<>();
    downtime
        .fields()
        .forEachRemaining(
            e ->
                parts.add(
                    e.getKey() + " " + Html.duration(e.getValue().path("client_ms").asLong())));
    return parts.isEmpty()
        ? "no host had a health URL to probe"
        : String.join(", ", parts)
            + " (as its health URL saw it, polled on the host during the run)";
  }

  private void fact(String name, String value) {
    out.append("<div><dt>")
        .append(esc(name))
        .append("</dt><dd>")
        .append(value == null ? "—" : esc(value))
        .append("</dd></div>\n");
  }

  static String exitMeaning(int code) {
    return switch (code) {
      case 0 -> "every host succeeded";
      case 1 -> "every upgrade held, but a cleanup step failed";
      case 2 ->
          "some host failed and was rolled back cleanly (or was untouched, unreachable or not run)";
      case 3 -> "a rollback failed: a host needs a person";
      case 130 -> "interrupted; hosts in progress were rolled back";
      default -> "see 'runbook --help'";
    };
  }

  static String rehearsalExitMeaning(int code) {
    return switch (code) {
      case 0 -> "the upgrade and the rollback passed on the copies";
      case 2 ->
          "the upgrade failed on a copy, or the rollback did not restore data and config, or the rehearsal could not finish";
      case 3 -> "a rollback handler failed on a copy";
      case 130 -> "interrupted; the copies were rolled back and removed";
      default -> "see 'runbook rehearse --help'";
    };
  }

  /**
   * What went wrong, first: the SRE opening this page after an incident wants it before the
   * details.
   */
  private void problems() {
    List<String> p = new ArrayList<>();
    RunSummary s = run.summary();
    RehearsalVerdict v = verdict();
    if (v != null) {
      // The journal's per-host lines include the rehearsal's own rollback ("asked by the
      // operator"): the
      // verdict says what failed instead.
      v.failures().forEach(f -> p.add("<li class=\"pf\">" + esc(f) + "</li>"));
      v.warnings().forEach(w -> p.add("<li class=\"pi\">warning: " + esc(w) + "</li>"));
      if (!p.isEmpty()) {
        out.append("<section class=\"problems\"><ul>\n");
        p.forEach(line -> out.append(line).append('\n'));
        out.append("</ul></section>\n");
      }
      return;
    }
    if (s.stopped() != null) p.add("<li><b>Rollout stopped:</b> " + esc(s.stopped()) + "</li>");
    // first: the rest of the page cannot tell what a damaged line held; its hosts need checking by
    // hand
    s.damageNotes().forEach(n -> p.add("<li class=\"pd\">" + esc(n) + "</li>"));
    for (Host h : run.hosts()) {
      HostSummary r = h.recap();
      if (r == null) continue;
      String link = "<a href=\"#host-" + run.hosts().indexOf(h) + "\">" + esc(h.name()) + "</a>: ";
      if (r.message() != null) {
        p.add(
            "<li class=\"pf\">"
                + link
                + (r.failedStep() != null ? "'" + esc(r.failedStep()) + "' failed: " : "")
                + esc(r.message())
                + "</li>");
      }
      if (r.rollbackError() != null)
        p.add(
            "<li class=\"pr\">" + link + "rollback stopped at " + esc(r.rollbackError()) + "</li>");
      for (String n : r.notUndone())
        p.add("<li class=\"pr\">" + link + "not undone: " + esc(n) + "</li>");
      if (r.inFlight() != null) {
        p.add(
            "<li class=\"pi\">"
                + link
                + "was running '"
                + esc(r.inFlight().name())
                + "' when the journal ends</li>");
      }
    }
    for (Host h : run.hosts()) {
      if (h.recap() != null)
        h.recap().notices().forEach(n -> p.add("<li class=\"pi\">" + esc(n) + "</li>"));
    }
    if (p.isEmpty()) return;
    out.append("<section class=\"problems\"><ul>\n");
    p.stream().limit(MAX_PROBLEMS).forEach(line -> out.append(line).append('\n'));
    if (p.size() > MAX_PROBLEMS) {
      out.append("<li>… and ")
          .append(p.size() - MAX_PROBLEMS)
          .append(" more: see the recap and the hosts below</li>\n");
    }
    out.append("</ul></section>\n");
  }

  private void recap() {
    out.append("<section id=\"recap\"><h2>Recap</h2>\n");
    boolean fold = run.hosts().size() > FOLD;
    List<Host> first = fold ? run.hosts().stream().filter(h -> !ok(h)).toList() : run.hosts();
    List<Host> folded = fold ? run.hosts().stream().filter(HtmlReport::ok).toList() : List.of();
    if (!first.isEmpty()) recapTable(first);
    if (!folded.isEmpty()) {
      out.append("<details class=\"fold\"><summary>")
          .append(first.isEmpty() ? "all " : "")
          .append(folded.size())
          .append(first.isEmpty() ? "" : " more")
          .append(" host(s) ended ok</summary>\n");
      recapTable(folded);
      out.append("</details>\n");
    }
    batchList();
    out.append("</section>\n");
  }

  /** Succeeded: what a large run's page folds away, so the hosts that need a look come first. */
  private static boolean ok(Host h) {
    return h.recap() != null && h.recap().outcome() == Outcome.SUCCEEDED;
  }

  private void recapTable(List<Host> hosts) {
    boolean modes = run.hosts().stream().anyMatch(h -> h.mode() != null);
    out.append("<table class=\"recap\"><thead><tr><th>Host</th>")
        .append(modes ? "<th>Mode</th>" : "")
        .append(
            "<th>Batch</th><th>Result</th><th class=\"n\">OK</th><th class=\"n\">Changed</th><th class=\"n\">Failed</th>"
                + "<th class=\"n\">Skipped</th><th class=\"n\">Undone</th><th class=\"n\">Time</th></tr></thead>\n<tbody>\n");
    for (Host h : hosts) {
      HostSummary r = h.recap();
      boolean ran = r != null && r.state() != HostSummary.State.NOT_STARTED;
      String result = r == null ? "?" : r.result();
      out.append("<tr><td><a href=\"#host-")
          .append(run.hosts().indexOf(h))
          .append("\">")
          .append(esc(h.name()))
          .append("</a></td>")
          .append(modes ? "<td>" + esc(h.mode() == null ? "—" : h.mode()) + "</td>" : "")
          .append("<td>")
          .append(h.batch() == null ? "—" : h.batch())
          .append("</td><td><span class=\"badge ")
          .append(Html.outcomeClass(result))
          .append("\">")
          .append(esc(result))
          .append("</span></td>");
      for (int n :
          r == null
              ? new int[5]
              : new int[] {r.ok(), r.changed(), r.failed(), r.skipped(), r.undone()}) {
        out.append("<td class=\"n")
            .append(ran && n > 0 ? "" : " z")
            .append("\">")
            .append(ran ? n : "—")
            .append("</td>");
      }
      out.append("<td class=\"n\">")
          .append(ran ? Html.duration(r.durationMillis()) : "—")
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private void batchList() {
    if (!run.batches().isEmpty()) {
      out.append("<ol class=\"batches\">\n");
      for (Batch b : run.batches()) {
        out.append("<li><b>batch ")
            .append(b.number())
            .append(b.of() > 0 ? "/" + b.of() : "")
            .append("</b> · ")
            .append(esc(names(b.hosts())));
        if (!b.failed().isEmpty())
          out.append(" · <span class=\"bad\">failed: ")
              .append(esc(String.join(", ", b.failed())))
              .append("</span>");
        if (b.decision() != null) out.append(" → ").append(esc(b.decision()));
        if (b.reason() != null)
          out.append(" <span class=\"dim\">(").append(esc(b.reason())).append(")</span>");
        if (b.endMillis() != null)
          out.append(" <span class=\"dim\">")
              .append(Html.duration(b.endMillis() - b.startMillis()))
              .append("</span>");
        out.append("</li>\n");
      }
      out.append("</ol>\n");
    }
  }

  /** The first few names of a list of hosts: a batch of 150 is "a, b, c, … and 147 more". */
  static String names(List<String> hosts) {
    if (hosts.size() <= 8) return String.join(", ", hosts);
    return String.join(", ", hosts.subList(0, 6)) + ", … and " + (hosts.size() - 6) + " more";
  }

  private void timeline() {
    out.append("<section id=\"timeline\"><h2>Timeline <span class=\"dim\">")
        .append(run.hosts().size())
        .append(" host(s) · ")
        .append(Html.duration(run.spanMillis()))
        .append(" · click a bar for its output</span></h2>\n<div class=\"legend\">");
    legend(Html.OK, "ok", "");
    legend(Html.CHANGED, "changed", "");
    legend(Html.FAILED, "failed", "");
    legend(Html.SKIPPED, "skipped", "");
    legend(Html.UNDO, "rollback step (undo)", "");
    legend(Html.UNDO_FAILED, "rollback step failed", "");
    legend("#ffffff", "health gate", " style=\"border:2px solid " + Html.GATE + "\"");
    legend("#ffe8cc", "host rolling back", "");
    legend("#fff0f0", "failed batch", " style=\"border:1px dashed #868e96\"");
    legend(Html.IN_FLIGHT, "running when the journal ends", "");
    if (run.hosts().stream()
        .flatMap(h -> h.events().stream())
        .anyMatch(
            m ->
                m.text() != null
                    && (m.text().startsWith("took_over") || m.text().startsWith("broken")))) {
      legend(
          "#343a40",
          "lock taken from another run",
          " style=\"transform:rotate(45deg);width:9px;height:9px\"");
    }
    out.append("</div>\n<div class=\"tlwrap")
        .append(run.hosts().size() > 60 ? " tall" : "")
        .append("\">\n")
        .append(TimelineSvg.render(run))
        .append("</div>\n</section>\n");
  }

  private void legend(String colour, String label, String style) {
    out.append("<span class=\"lg\"><i")
        .append(
            style.isEmpty()
                ? " style=\"background:" + colour + "\""
                : style.replace("style=\"", "style=\"background:" + colour + ";"))
        .append("></i>")
        .append(esc(label))
        .append("</span>");
  }

  private void hosts() {
    out.append("<section id=\"hosts\"><h2>Hosts</h2>\n");
    for (Host h : TimelineSvg.order(run.hosts())) host(h);
    out.append("</section>\n");
  }

  private void host(Host h) {
    HostSummary r = h.recap();
    String result = r == null ? "?" : r.result();
    out.append("<section class=\"host\" id=\"host-")
        .append(run.hosts().indexOf(h))
        .append("\"><h3><span class=\"badge ")
        .append(Html.outcomeClass(result))
        .append("\">")
        .append(esc(result))
        .append("</span> ")
        .append(esc(h.name()))
        .append(" <small>")
        .append(esc(h.mode() == null ? "" : h.mode() + " · "))
        .append(
            h.batch() != null
                ? "batch " + h.batch()
                : run.batches().isEmpty() ? "" : "no batch (its batch never ran)");
    if (r != null && r.state() != HostSummary.State.NOT_STARTED) {
      out.append(h.batch() == null && run.batches().isEmpty() ? "" : " · ")
          .append(Html.duration(r.durationMillis()));
    }
    out.append("</small></h3>\n");
    for (Rollback rb : h.rollbacks()) {
      out.append("<p class=\"rb\">↺ rollback at +").append(Html.duration(rb.startMillis()));
      if (rb.failedStep() != null)
        out.append(" after '").append(esc(rb.failedStep())).append("' failed");
      out.append(": ")
          .append(rb.stack().isEmpty() ? "nothing to undo" : esc(String.join(" → ", rb.stack())));
      if (rb.succeeded() == null) out.append(" <b>— still running when the journal ends</b>");
      else if (!rb.succeeded())
        out.append(" <b class=\"bad\">— FAILED: ").append(esc(rb.message())).append("</b>");
      for (String n : rb.notUndone()) out.append("<br>not undone: ").append(esc(n));
      out.append("</p>\n");
    }
    if (!h.events().isEmpty()) {
      out.append("<p class=\"dim locks\">lock: ");
      for (int i = 0; i < h.events().size(); i++) {
        Marker m = h.events().get(i);
        out.append(i == 0 ? "" : " · ")
            .append(esc(m.text().replace('_', ' ')))
            .append(" +")
            .append(Html.duration(m.atMillis()));
      }
      out.append("</p>\n");
    }
    if (h.steps().isEmpty()) {
      out.append("<p class=\"dim\">no steps ran</p></section>\n");
      return;
    }
    boolean fold = run.hosts().size() > FOLD && ok(h);
    if (fold)
      out.append("<details><summary>").append(h.steps().size()).append(" step(s)</summary>");
    out.append(
        "<table class=\"steps\"><thead><tr><th>phase</th><th>step</th><th>status</th><th class=\"n\">start</th>"
            + "<th class=\"n\">time</th></tr></thead><tbody>\n");
    for (Step s : h.steps()) step(s);
    out.append("</tbody></table>").append(fold ? "</details>" : "").append("</section>\n");
  }

  private void step(Step s) {
    String phase = s.kind() == Kind.ROLLBACK ? "↺ " + s.phase() : s.phase();
    out.append("<tr id=\"step-")
        .append(s.id())
        .append("\" class=\"k-")
        .append(s.kind().name().toLowerCase(Locale.ROOT))
        .append(s.failed() ? " failed" : "")
        .append("\"><td class=\"ph\">")
        .append(esc(phase))
        .append(s.kind() == Kind.GATE ? " <span class=\"gate\">gate</span>" : "")
        .append("</td><td>")
        .append(esc(s.name()));
    if (s.type() != null)
      out.append(" <span class=\"dim\">").append(esc(s.type())).append("</span>");
    if (s.kind() == Kind.ROLLBACK && s.forStep() != null)
      out.append(" <span class=\"dim\">undoes '").append(esc(s.forStep())).append("'</span>");
    if (s.attempts() > 1)
      out.append(" <span class=\"dim\">").append(s.attempts()).append(" attempts</span>");
    if (s.message() != null)
      out.append("<div class=\"msg\">").append(esc(s.message())).append("</div>");
    output(s);
    out.append("</td><td><span class=\"pill\" style=\"background:")
        .append(Html.colour(s))
        .append("\">")
        .append(Html.status(s))
        .append("</span></td><td class=\"n dim\">+")
        .append(Html.duration(s.startMillis()))
        .append("</td><td class=\"n\">")
        .append(s.inFlight() ? "—" : Html.duration(s.durationMillis()))
        .append("</td></tr>\n");
  }

  private void output(Step s) {
    boolean hasOut = s.stdout() != null && !s.stdout().isBlank();
    boolean hasErr = s.stderr() != null && !s.stderr().isBlank();
    if (!hasOut && !hasErr && s.rc() == null) return;
    boolean whole = s.failed() || s.kind() == Kind.ROLLBACK;
    out.append("<details").append(s.failed() ? " open" : "").append("><summary>output");
    if (s.rc() != null) out.append(" · rc ").append(s.rc());
    if (hasOut) out.append(" · stdout ").append(lines(s.stdout()));
    if (hasErr) out.append(" · stderr ").append(lines(s.stderr()));
    out.append("</summary>");
    if (hasOut)
      out.append("<pre class=\"out\">").append(esc(cap(s.stdout(), whole))).append("</pre>");
    if (hasErr)
      out.append("<pre class=\"err\">").append(esc(cap(s.stderr(), whole))).append("</pre>");
    out.append("</details>");
  }

  private static String lines(String text) {
    long n = text.strip().lines().count();
    return n == 1 ? "1 line" : n + " lines";
  }

  static String cap(String text, boolean whole) {
    String t = text.stripTrailing();
    if (whole || t.length() <= OUTPUT_CAP) return t;
    return "… ("
        + (t.length() - OUTPUT_CAP)
        + " earlier characters are in the journal)\n"
        + t.substring(t.length() - OUTPUT_CAP);
  }

  private static String css() {
    try (InputStream in = HtmlReport.class.getResourceAsStream("report.css")) {
      if (in == null) throw new IllegalStateException("report.css is missing from the jar");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
