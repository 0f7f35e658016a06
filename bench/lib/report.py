#!/usr/bin/python3
"""Benchmark records and the results page.

    report.py add JSONL MEASUREMENT.json key=value...   append one run (measure.py's output + tags)
    report.py brief MEASUREMENT.json                     one line for the progress log
    report.py render JSONL RESULTS.md --repo DIR         print the tables, write them as Markdown
    report.py variants JSONL                             Markdown table of profile.sh's variants (by label)
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

MAIN_TOOLS = ("runbook", "ansible", "raw")


def add(jsonl, measurement, tags):
    with open(measurement) as f:
        rec = json.load(f)
    for t in tags:
        k, v = t.split("=", 1)
        rec[k] = v
    with open(jsonl, "a") as f:
        f.write(json.dumps(rec) + "\n")


def brief(measurement):
    with open(measurement) as f:
        r = json.load(f)
    return (f"wall {r['wall']:.2f}s  cpu {r['user'] + r['sys']:.2f}s  rss {r['maxrss_kb'] / 1024:.0f}MB  "
            f"threads {r['threads']}  fleet cpu {r['fleet_cpu']:.1f}s  others {r.get('others_pct', 0):.0f}%")


# ---- GC log: the most heap a run used

def heap_used_mb(path):
    """Most heap in use: the largest before-GC figure ("Pause Young ... 17M->3M(61M)") or the heap in use at
    exit (gc+heap+exit: the generations' "used NK"), whichever is larger; None without a log."""
    import re
    if not path or not os.path.exists(path):
        return None
    most, at_exit = 0.0, 0.0
    for line in open(path, errors="replace"):
        m = re.search(r"Pause .*? (\d+)M->(\d+)M\((\d+)M\)", line)
        if m:
            most = max(most, float(m.group(1)))
        m = re.search(r"gc,heap,exit.*(?:generation|space).*used (\d+)K", line)
        if m and "Metaspace" not in line and "class space" not in line:
            at_exit += int(m.group(1)) / 1024
    return max(most, at_exit)


def heap_cell(rs):
    hs = [h for h in (heap_used_mb(r.get("gc_log")) for r in rs) if h is not None]
    return f"{max(hs):.0f}" if hs else "–"


# ---- journal: where a runbook run's time goes

def parse_ts(s):
    # 2026-11-21T22:12:20.601195034Z: Python wants at most 6 fraction digits
    date, frac = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    return datetime.datetime.fromisoformat(date).replace(tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)


def journal_breakdown(path, wall):
    """Seconds spent before the run started (JVM, parse, plan), connecting+locking, in steps, and closing."""
    events = []
    with open(path) as f:
        for line in f:
            events.append(json.loads(line))
    t = lambda e: parse_ts(e["at"])
    started = next(t(e) for e in events if e["event"] == "run_started")
    finished = next(t(e) for e in events if e["event"] == "run_finished")
    batch = next((t(e) for e in events if e["event"] == "batch_started"), started)
    step_ends = [t(e) for e in events if e["event"] == "step_finished"]
    last_step = max(step_ends) if step_ends else batch
    durations = {}
    gaps = []
    last_end = {}
    for e in events:
        if e["event"] == "step_finished" and not e.get("rollback"):
            durations.setdefault(e["type"], []).append(e["result"]["durationMillis"])
            last_end[e["host"]] = t(e)
        elif e["event"] == "step_started" and e["host"] in last_end:
            gaps.append((t(e) - last_end[e["host"]]) * 1000)
    return {
        "before_run": wall - (finished - started),
        "connect_lock": batch - started,
        "steps": last_step - batch,
        "close": finished - last_step,
        "step_ms": {k: statistics.median(v) for k, v in durations.items()},
        "gap_ms": statistics.median(gaps) if gaps else 0.0,
        "events": len(events),
    }


# ---- rendering

def med(xs):
    return statistics.median(xs)


def spread(xs, fmt="{:.2f}"):
    return f"{fmt.format(med(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


def facts(repo):
    def sh(cmd):
        try:
            p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
            return (p.stdout + p.stderr).strip()
        except Exception as e:  # a missing tool is a fact too
            return f"unavailable ({e})"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("runbook commit", sh(f"git -C {repo} log -1 --format='%h %s'")),
        ("nproc", sh("nproc")),
        ("memory", f"{mem_kb / 1024 / 1024:.1f} GiB"),
        ("CPU", cpu),
        ("kernel", platform.release()),
        ("java -version", sh("java -version 2>&1 | head -2 | tr '\\n' ' '")),
        ("ansible --version", sh("ansible --version 2>&1 | head -1")),
        ("ssh -V", sh("ssh -V 2>&1")),
        ("load average at render", " ".join(open("/proc/loadavg").read().split()[:3])),
    ]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def render(jsonl, results, repo):
    recs = [json.loads(l) for l in open(jsonl) if l.strip()]
    work = [r for r in recs if r["kind"] == "workload"]
    configs = sorted({(int(r["hosts"]), int(r["steps"])) for r in work})
    sections = []

    def runs(n, m, label):
        return [r for r in work if int(r["hosts"]) == n and int(r["steps"]) == m and r["label"] == label]

    rows = []
    for n, m in configs:
        for label in MAIN_TOOLS:
            rs = runs(n, m, label)
            if not rs:
                continue
            walls = [r["wall"] for r in rs]
            rows.append([f"{n}×{m}", label, len(rs), spread(walls), f"{n * m / med(walls):.1f}",
                         f"{med([r['user'] + r['sys'] for r in rs]):.2f}",
                         f"{med([r['maxrss_kb'] for r in rs]) / 1024:.0f}",
                         f"{med([r['tree_rss_kb'] for r in rs]) / 1024:.0f}",
                         max(int(r["threads"]) for r in rs),
                         heap_cell(rs),
                         f"{med([r['fleet_cpu'] for r in rs]):.2f}",
                         f"{max(float(r['busy_before']) for r in rs):.0f} / "
                         f"{max(float(r.get('others_pct', 0)) for r in rs):.0f}"])
    sections.append(("Workloads: wall time and controller cost (median of the repetitions, min–max)", table(
        ["hosts×steps", "tool", "runs", "wall s", "host-steps/s", "controller CPU s", "peak RSS MB",
         "tree RSS MB", "threads", "max heap used MB", "fleet CPU s", "others% before / during (max)"], rows)))

    rows = []
    for n, m in configs:
        rb, an, raw = (runs(n, m, t) for t in MAIN_TOOLS)
        if not rb:
            continue
        w = med([r["wall"] for r in rb])
        speed = f"{med([r['wall'] for r in an]) / w:.1f}×" if an else "–"
        ratio_raw = f"{w / med([r['wall'] for r in raw]):.2f}" if raw else "–"
        per_step = f"{(w - med([r['wall'] for r in raw])) * 1000 / (n * m):.1f}" if raw else "–"
        cpu_step = f"{med([r['user'] + r['sys'] for r in rb]) * 1000 / (n * m):.1f}"
        rows.append([f"{n}×{m}", f"{w / med([r['wall'] for r in an]):.3f}" if an else "–", speed, ratio_raw,
                     per_step, cpu_step])
    sections.append(("Ratios and per-step overhead", table(
        ["hosts×steps", "runbook/Ansible (wall)", "Ansible is slower by", "runbook/raw (wall)",
         "(runbook − raw)/(N×M) ms", "runbook controller CPU per host-step ms"], rows)))

    start = [r for r in recs if r["kind"] == "startup"]
    rows = []
    for label in dict.fromkeys(r["label"] for r in start):
        rs = [r for r in start if r["label"] == label]
        walls = [r["wall"] for r in rs]
        rows.append([f"`{rs[0]['cmd']}`", len(rs), spread(walls), f"{med([r['user'] + r['sys'] for r in rs]):.2f}",
                     f"{med([r['maxrss_kb'] for r in rs]) / 1024:.0f}",
                     f"{max(float(r.get('busy_before', 0)) for r in rs):.0f} / "
                     f"{max(float(r.get('others_pct', 0)) for r in rs):.0f}"])
    if rows:
        sections.append(("Start-up: validate and plan, JVM start included (target < 1 s)", table(
            ["command", "runs", "wall s median (min–max)", "CPU s", "peak RSS MB", "others% before / during (max)"], rows)))

    lim = [r for r in work if r["label"] not in MAIN_TOOLS]
    if lim:
        rows = [[r["label"], f"{r['hosts']}×{r['steps']}", r["forks"], r["java_opts"], r["rc"], f"{r['wall']:.2f}",
                 f"{(r['user'] + r['sys']):.2f}", f"{r['maxrss_kb'] / 1024:.0f}", heap_cell([r]), r["threads"]]
                for r in lim]
        sections.append(("Heap and threads at the largest fleet", table(
            ["run", "hosts×steps", "forks", "RUNBOOK_JAVA_OPTS", "exit", "wall s", "CPU s", "peak RSS MB",
             "max heap used MB", "peak threads (sampled)"], rows)))

    rows = []
    for n, m in configs:
        bds = []
        for r in runs(n, m, "runbook"):
            if r.get("journal"):
                bds.append(journal_breakdown(r["journal"], r["wall"]))
        if not bds:
            continue
        types = sorted({k for b in bds for k in b["step_ms"]})
        rows.append([f"{n}×{m}", f"{med([b['before_run'] for b in bds]):.2f}",
                     f"{med([b['connect_lock'] for b in bds]):.2f}", f"{med([b['steps'] for b in bds]):.2f}",
                     f"{med([b['close'] for b in bds]):.2f}",
                     ", ".join(f"{k} {med([b['step_ms'][k] for b in bds if k in b['step_ms']]):.0f}" for k in types),
                     f"{med([b['gap_ms'] for b in bds]):.1f}"])
    if rows:
        sections.append(("Where runbook's wall time goes (from its journals; medians)", table(
            ["hosts×steps", "JVM start + parse + plan s", "connect + lock + preflight s", "steps s",
             "unlock + close s", "step duration ms by type (median)", "gap between steps ms"], rows)))

    fact_rows = facts(repo)
    text = ["# Benchmark results", "",
            "Generated by `bench/run.sh` (see [README.md](README.md) for what is measured and how to read it).", "",
            table(["fact", "value"], [[k, v.replace("|", "/")] for k, v in fact_rows]), ""]
    for title, body in sections:
        text += [f"## {title}", "", body, ""]
    text.append(f"Raw data: `{jsonl}`.")
    md = "\n".join(text) + "\n"
    with open(results, "w") as f:
        f.write(md)
    print(md)


def variants(jsonl):
    recs = [json.loads(l) for l in open(jsonl) if l.strip()]
    rows = []
    for label in dict.fromkeys(r["label"] for r in recs):
        rs = [r for r in recs if r["label"] == label]
        n, m = int(rs[0]["hosts"]), int(rs[0]["steps"])
        walls = [r["wall"] for r in rs]
        bds = [journal_breakdown(r["journal"], r["wall"]) for r in rs if r.get("journal")]
        b = lambda k: f"{med([x[k] for x in bds]):.2f}" if bds else "–"
        types = sorted({k for x in bds for k in x["step_ms"]})
        steps = ", ".join(f"{k} {med([x['step_ms'][k] for x in bds if k in x['step_ms']]):.0f}" for k in types)
        rows.append([label, f"{n}×{m}", len(rs), spread(walls), f"{med([r['user'] + r['sys'] for r in rs]):.2f}",
                     f"{med([r['maxrss_kb'] for r in rs]) / 1024:.0f}", b("before_run"), b("connect_lock"),
                     b("steps"), b("close"), steps or "–",
                     f"{max(float(r.get('others_pct', 0)) for r in rs):.0f}"])
    print(table(["variant", "hosts×steps", "runs", "wall s median (min–max)", "CPU s", "peak RSS MB",
                 "JVM+parse+plan s", "connect+lock s", "steps s", "unlock+close s", "step ms by type",
                 "others% during (max)"], rows))


def main(argv):
    if argv[0] == "add":
        add(argv[1], argv[2], argv[3:])
    elif argv[0] == "variants":
        variants(argv[1])
    elif argv[0] == "brief":
        print(brief(argv[1]))
    elif argv[0] == "render":
        repo = argv[argv.index("--repo") + 1] if "--repo" in argv else "."
        render(argv[1], argv[2], repo)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
