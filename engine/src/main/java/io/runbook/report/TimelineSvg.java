package io.runbook.report;

import static io.runbook.report.Html.esc;

import io.runbook.report.RunReport.Batch;
import io.runbook.report.RunReport.Host;
import io.runbook.report.RunReport.Kind;
import io.runbook.report.RunReport.Marker;
import io.runbook.report.RunReport.Rollback;
import io.runbook.report.RunReport.Step;
import io.runbook.result.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The timeline as inline SVG, drawn here so the page needs no script: a row per host, x the time
 * since the run started, a bar per step coloured by outcome, batches as bands behind the rows, a
 * host's rollback as an orange band, each bar a link to the step's output. Coordinates are whole
 * pixels and edges crisp, so the colours on screen are exactly the ones in {@link Html}.
 */
final class TimelineSvg {
  static final int WIDTH = 1300;
  static final int LABELS = 190;
  static final int RIGHT = 16;
  static final int TOP = 44;
  static final int BOTTOM = 12;

  /** Bars narrower than this would vanish: a 2 ms step in a 10 minute run still shows. */
  static final int MIN_BAR = 3;

  private final RunReport run;
  private final List<Host> rows;
  private final int rowHeight;
  private final long span;
  private final long idleShown;
  private final long axisSpan;
  private final StringBuilder svg = new StringBuilder();

  private TimelineSvg(RunReport run) {
    this.run = run;
    this.rows = order(run.hosts());
    this.rowHeight = rows.size() <= 40 ? 22 : rows.size() <= 100 ? 15 : 12;
    this.span = Math.max(1, run.spanMillis());
    long cut = run.idle().stream().mapToLong(RunReport.Idle::millis).sum();
    this.idleShown = Math.max(1, (span - cut) / 25);
    this.axisSpan = Math.max(1, axis(span));
  }

  /**
   * Time on the drawn axis: each idle stretch (a controller down until a resume, a night before a
   * rollback) is squeezed to {@link #idleShown}, so the run around it keeps its width.
   */
  long axis(long ms) {
    long removed = 0;
    for (RunReport.Idle c : run.idle()) {
      if (ms >= c.toMillis()) {
        removed += c.millis() - idleShown;
      } else {
        if (ms > c.fromMillis())
          removed += (ms - c.fromMillis()) - (ms - c.fromMillis()) * idleShown / c.millis();
        break;
      }
    }
    return ms - removed;
  }

  static String render(RunReport run) {
    return new TimelineSvg(run).draw();
  }

  /** By batch, then as the run listed them: a batch's rows sit together under its band. */
  static List<Host> order(List<Host> hosts) {
    List<Host> out = new ArrayList<>(hosts);
    out.sort(Comparator.comparingInt(h -> h.batch() == null ? Integer.MAX_VALUE : h.batch()));
    return out;
  }

  int height() {
    return TOP + rows.size() * rowHeight + BOTTOM;
  }

  int x(long ms) {
    return LABELS
        + (int)
            Math.round(
                (double) Math.min(axis(Math.min(ms, span)), axisSpan)
                    / axisSpan
                    * (WIDTH - LABELS - RIGHT));
  }

  int y(int row) {
    return TOP + row * rowHeight;
  }

  private String draw() {
    int h = height();
    int plotBottom = y(rows.size());
    svg.append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(h)
        .append("\" viewBox=\"0 0 ")
        .append(WIDTH)
        .append(' ')
        .append(h)
        .append("\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"timeline of run ")
        .append(esc(run.summary().runId()))
        .append("\">\n");
    svg.append(
            "<defs><pattern id=\"inflight\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
                + "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e5dbff\"/><rect width=\"3\" "
                + "height=\"6\" fill=\"")
        .append(Html.IN_FLIGHT)
        .append(
            "\"/></pattern>"
                + "<pattern id=\"idle\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">"
                + "<rect width=\"8\" height=\"8\" fill=\"#ffffff\"/><rect width=\"2\" height=\"8\" fill=\"#dee2e6\"/>"
                + "</pattern></defs>\n");
    batches(plotBottom);
    idle(plotBottom);
    ticks(plotBottom);
    for (int r = 0; r < rows.size(); r++) row(r, rows.get(r));
    markers(plotBottom);
    svg.append("<rect class=\"frame\" x=\"")
        .append(LABELS)
        .append("\" y=\"")
        .append(TOP)
        .append("\" width=\"")
        .append(WIDTH - LABELS - RIGHT)
        .append("\" height=\"")
        .append(plotBottom - TOP)
        .append("\" fill=\"none\" stroke=\"")
        .append(Html.FRAME)
        .append("\" stroke-width=\"1\"/>\n");
    return svg.append("</svg>\n").toString();
  }

  private void batches(int plotBottom) {
    for (Batch b : run.batches()) {
      int x0 = x(b.startMillis());
      int x1 = Math.max(x0 + 1, x(b.endMillis() == null ? span : b.endMillis()));
      boolean failed = !b.failed().isEmpty();
      String fill = failed ? "#fff0f0" : b.number() % 2 == 1 ? "#eef3fb" : "#f4f6f9";
      svg.append("<g class=\"batch\"><title>").append(esc(batchTitle(b))).append("</title>");
      svg.append("<rect x=\"")
          .append(x0)
          .append("\" y=\"")
          .append(TOP - 20)
          .append("\" width=\"")
          .append(x1 - x0)
          .append("\" height=\"")
          .append(plotBottom - TOP + 20)
          .append("\" fill=\"")
          .append(fill)
          .append("\"/>");
      svg.append("<line x1=\"")
          .append(x0)
          .append("\" y1=\"")
          .append(TOP - 20)
          .append("\" x2=\"")
          .append(x0)
          .append("\" y2=\"")
          .append(plotBottom)
          .append("\" stroke=\"#868e96\" stroke-dasharray=\"4 3\"/>");
      String label =
          fit(
              x1 - x0 - 6,
              "batch "
                  + b.number()
                  + (b.of() > 0 ? "/" + b.of() : "")
                  + (failed ? " · " + b.failed().size() + " failed" : "")
                  + (b.decision() == null ? "" : " → " + b.decision()),
              "batch " + b.number() + (failed ? " · " + b.failed().size() + " failed" : ""),
              "batch " + b.number(),
              Integer.toString(b.number()));
      svg.append("<text x=\"")
          .append(x0 + 4)
          .append("\" y=\"")
          .append(TOP - 7)
          .append("\" class=\"")
          .append(failed ? "blabel bfail" : "blabel")
          .append("\">")
          .append(esc(label))
          .append("</text></g>\n");
    }
  }

  /**
   * The longest of the labels, longest first, that fits in {@code room} pixels of 11 px bold text;
   * else none.
   */
  static String fit(int room, String... labels) {
    for (String l : labels) if (l.length() * 7 <= room) return l;
    return "";
  }

  private static String batchTitle(Batch b) {
    return "batch "
        + b.number()
        + (b.of() > 0 ? " of " + b.of() : "")
        + ": "
        + String.join(", ", b.hosts())
        + (b.failed().isEmpty() ? "" : "\nfailed: " + String.join(", ", b.failed()))
        + (b.decision() == null ? "" : "\nthen: " + b.decision())
        + (b.reason() == null ? "" : " (" + b.reason() + ")");
  }

  private void ticks(int plotBottom) {
    long step = tickStep(axisSpan);
    int lastLabel = Integer.MIN_VALUE;
    for (long t = 0; t <= span; t += step) {
      RunReport.Idle in = idleAt(t);
      if (in != null) {
        t = (in.toMillis() + step - 1) / step * step - step; // the next tick after the stretch
        continue;
      }
      int x = x(t);
      if (t > 0 && crowded(x, lastLabel)) continue;
      lastLabel = x;
      if (t > 0) {
        svg.append("<line x1=\"")
            .append(x)
            .append("\" y1=\"")
            .append(TOP)
            .append("\" x2=\"")
            .append(x)
            .append("\" y2=\"")
            .append(plotBottom)
            .append("\" stroke=\"#dee2e6\"/>");
      }
      svg.append("<text x=\"")
          .append(x)
          .append("\" y=\"")
          .append(TOP - 28)
          .append("\" class=\"tick\"")
          .append(
              t == 0
                  ? ""
                  : x > WIDTH - RIGHT - 24 ? " text-anchor=\"end\"" : " text-anchor=\"middle\"")
          .append(">")
          .append(t == 0 ? "0" : "+" + Html.duration(t))
          .append("</text>");
    }
    svg.append('\n');
  }

  /**
   * Whether a tick's label at x would run into the previous one or into an idle stretch's label.
   */
  private boolean crowded(int x, int previous) {
    if (x - previous < 56) return true;
    for (RunReport.Idle c : run.idle()) {
      if (Math.abs(x - (x(c.fromMillis()) + x(c.toMillis())) / 2) < 60) return true;
    }
    return false;
  }

  private RunReport.Idle idleAt(long t) {
    for (RunReport.Idle c : run.idle()) if (t > c.fromMillis() && t < c.toMillis()) return c;
    return null;
  }

  /** An idle stretch: hatched, with how long it lasted. */
  private void idle(int plotBottom) {
    for (RunReport.Idle c : run.idle()) {
      int x0 = x(c.fromMillis()), x1 = Math.max(x0 + 2, x(c.toMillis()));
      svg.append("<g class=\"idle\"><title>")
          .append(
              esc(
                  "nothing ran for "
                      + Html.duration(c.millis())
                      + " (from +"
                      + Html.duration(c.fromMillis())
                      + " to +"
                      + Html.duration(c.toMillis())
                      + "): shortened here"))
          .append("</title><rect x=\"")
          .append(x0)
          .append("\" y=\"")
          .append(TOP - 20)
          .append("\" width=\"")
          .append(x1 - x0)
          .append("\" height=\"")
          .append(plotBottom - TOP + 20)
          .append("\" fill=\"url(#idle)\"/><text x=\"")
          .append((x0 + x1) / 2)
          .append("\" y=\"")
          .append(TOP - 28)
          .append("\" text-anchor=\"middle\" class=\"tick\">")
          .append(esc(Html.duration(c.millis()) + " later"))
          .append("</text></g>\n");
    }
  }

  /** 1, 2 or 5 × a power of ten, for about eight ticks. */
  static long tickStep(long span) {
    long unit = 1;
    while (true) {
      for (long m : new long[] {1, 2, 5}) {
        if (span / (unit * m) <= 8) return unit * m;
      }
      unit *= 10;
    }
  }

  private void row(int r, Host h) {
    int y = y(r);
    String label = h.name().length() > 24 ? h.name().substring(0, 23) + "…" : h.name();
    String result = h.recap() == null ? "?" : h.recap().result();
    svg.append("<g class=\"host\"><title>")
        .append(esc(h.name() + " · " + result))
        .append("</title>")
        .append("<a href=\"#host-")
        .append(run.hosts().indexOf(h))
        .append("\">");
    svg.append("<text x=\"")
        .append(LABELS - 8)
        .append("\" y=\"")
        .append(y + rowHeight / 2 + (rowHeight < 22 ? 3 : 4))
        .append("\" text-anchor=\"end\" class=\"hname ")
        .append(Html.outcomeClass(result))
        .append('"')
        .append(rowHeight < 22 ? " style=\"font-size:" + (rowHeight - 3) + "px\"" : "")
        .append('>')
        .append(esc(label))
        .append("</text></a></g>");
    svg.append("<line x1=\"")
        .append(LABELS)
        .append("\" y1=\"")
        .append(y + rowHeight)
        .append("\" x2=\"")
        .append(WIDTH - RIGHT)
        .append("\" y2=\"")
        .append(y + rowHeight)
        .append("\" stroke=\"#e9ecef\"/>");
    for (Rollback rb : h.rollbacks()) {
      int x0 = x(rb.startMillis());
      int x1 = Math.max(x0 + MIN_BAR, x(rb.endMillis() == null ? span : rb.endMillis()));
      svg.append("<rect class=\"rollback\" x=\"")
          .append(x0)
          .append("\" y=\"")
          .append(y + 1)
          .append("\" width=\"")
          .append(x1 - x0)
          .append("\" height=\"")
          .append(rowHeight - 2)
          .append("\" fill=\"")
          .append(Boolean.FALSE.equals(rb.succeeded()) ? "#f3d9fa" : "#ffe8cc")
          .append("\"><title>")
          .append(
              esc(
                  "rollback after '"
                      + rb.failedStep()
                      + "' failed"
                      + (rb.succeeded() == null
                          ? " (still running when the journal ends)"
                          : rb.succeeded()
                              ? ": every handler succeeded"
                              : ": FAILED " + rb.message())))
          .append("</title></rect>");
    }
    for (Marker m : h.events()) {
      if (m.text() == null || m.text().startsWith("taken") || m.text().startsWith("released"))
        continue;
      // a lock taken from another run (expired, or --break-lock): worth a look when reading an
      // incident
      int x = x(m.atMillis()), mid = y + rowHeight / 2, d = Math.max(3, rowHeight / 4);
      svg.append("<polygon class=\"lock\" points=\"")
          .append(x)
          .append(',')
          .append(mid - d)
          .append(' ')
          .append(x + d)
          .append(',')
          .append(mid)
          .append(' ')
          .append(x)
          .append(',')
          .append(mid + d)
          .append(' ')
          .append(x - d)
          .append(',')
          .append(mid)
          .append("\" fill=\"#343a40\"><title>")
          .append(
              esc(
                  h.name()
                      + ": lock "
                      + m.text().replace('_', ' ')
                      + " at +"
                      + Html.duration(m.atMillis())))
          .append("</title></polygon>");
    }
    int pad = rowHeight >= 14 ? 4 : 2;
    for (Step s : h.steps()) {
      int x0 = Math.min(x(s.startMillis()), WIDTH - RIGHT - MIN_BAR);
      // a pixel of air between a step and the next, so that two changed steps in a row read as two
      int x1 = Math.max(x0 + MIN_BAR, x(s.endMillis()) - 1);
      boolean gate = s.kind() == Kind.GATE;
      svg.append("<a href=\"#step-")
          .append(s.id())
          .append("\"><rect class=\"bar\" x=\"")
          .append(x0)
          .append("\" y=\"")
          .append(y + pad)
          .append("\" width=\"")
          .append(x1 - x0)
          .append("\" height=\"")
          .append(rowHeight - 2 * pad)
          .append("\" fill=\"")
          .append(s.inFlight() ? "url(#inflight)" : Html.colour(s))
          .append('"');
      if (gate) svg.append(" stroke=\"").append(Html.GATE).append("\" stroke-width=\"2\"");
      svg.append("><title>").append(esc(tooltip(h, s))).append("</title></rect>");
      label(s, x0, x1, y);
      svg.append("</a>");
      if (s.failed()) failure(x0, y, s.kind() == Kind.ROLLBACK ? Html.UNDO_FAILED : Html.FAILED);
    }
    svg.append('\n');
  }

  /** The step's name inside its bar, when the bar is wide and tall enough to hold some of it. */
  private void label(Step s, int x0, int x1, int y) {
    int room = (x1 - x0 - 8) / 6; // characters of 10 px text
    if (rowHeight < 18 || room < 6 || s.inFlight() || s.status() == Status.SKIPPED) return;
    String name = s.name().length() <= room ? s.name() : s.name().substring(0, room - 1) + "…";
    svg.append("<text x=\"")
        .append(x0 + 4)
        .append("\" y=\"")
        .append(y + rowHeight / 2 + 4)
        .append("\" class=\"inbar\">")
        .append(esc(name))
        .append("</text>");
  }

  /** A triangle over a failed step's bar, pointing at it: a 3-pixel bar alone is easy to miss. */
  private void failure(int x, int y, String colour) {
    int half = Math.max(3, rowHeight / 4);
    svg.append("<polygon points=\"")
        .append(x - half + 1)
        .append(',')
        .append(y)
        .append(' ')
        .append(x + half + 1)
        .append(',')
        .append(y)
        .append(' ')
        .append(x + 1)
        .append(',')
        .append(y + half + 1)
        .append("\" fill=\"")
        .append(colour)
        .append("\"/>");
  }

  private static String tooltip(Host h, Step s) {
    String what =
        s.kind() == Kind.ROLLBACK
            ? "↺ undo" + (s.forStep() == null ? "" : " '" + s.forStep() + "'")
            : s.kind() == Kind.GATE ? "gate" : s.phase();
    return h.name()
        + " · "
        + what
        + " · "
        + s.name()
        + "\n"
        + Html.status(s).toUpperCase(Locale.ROOT)
        + (s.inFlight() ? "" : " in " + Html.duration(s.durationMillis()))
        + " · at +"
        + Html.duration(s.startMillis())
        + (s.message() == null ? "" : "\n" + s.message());
  }

  private void markers(int plotBottom) {
    for (Marker m : run.markers()) {
      int x = x(m.atMillis());
      svg.append("<g class=\"marker\"><title>")
          .append(esc(m.kind() + (m.text() == null ? "" : " by " + m.text())))
          .append("</title><line x1=\"")
          .append(x)
          .append("\" y1=\"")
          .append(TOP - 20)
          .append("\" x2=\"")
          .append(x)
          .append("\" y2=\"")
          .append(plotBottom)
          .append("\" stroke=\"")
          .append(Html.IN_FLIGHT)
          .append("\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/><text x=\"")
          .append(x + 4)
          .append("\" y=\"")
          .append(TOP + 12)
          .append("\" class=\"mlabel\">")
          .append(esc(m.kind()))
          .append("</text></g>\n");
    }
  }
}
