#!/usr/bin/python3
"""Runs one command as the controller under test and measures it; prints one JSON object.

    measure.py [--out FILE] [--fleet-pids FILE] [--fleet-cgroup DIR] [--sample-ms MS] -- COMMAND...

The JSON goes to --out (default: stderr), so COMMAND's own output can go wherever the caller sends it.

Measured:
  wall        seconds from start until COMMAND exits (what the user waits for)
  user, sys   CPU seconds of the whole controller process tree: COMMAND and every process it started,
              including daemons that detached (ssh ControlPersist masters). This process makes itself a
              child subreaper, so detached descendants are re-parented to it; once COMMAND has exited,
              leftovers (Ansible's persisted masters) get SIGTERM and are reaped, so their CPU is counted.
  maxrss_kb   the largest resident set of any single process of the tree (getrusage ru_maxrss)
  tree_rss_kb peak of the summed RSS of the live tree, sampled every --sample-ms (forked workers share
              pages, so this over-counts them; it is an upper bound)
  threads     peak of the summed thread count of the live tree, sampled (short-lived threads may be missed)
  others_cpu  CPU seconds the rest of the machine spent while COMMAND ran (all cores' busy time from /proc/stat
              minus the above and this process's own sampling): other people's work sharing the cores, i.e.
              noise; others_pct is the same as a share of all cores over the wall time
  fleet_cpu   CPU seconds the fake fleet spent (sshd daemons, sessions, shells, Ansible's modules): exactly from
              the cpuacct cgroup the fleet runs in (--fleet-cgroup DIR, see lib/fleet.sh), else from the
              listeners' /proc/PID/stat with children (--fleet-pids), which misses what sshd does not reap
              in a chain (a session's commands: Ansible's Python modules). The fleet shares the same cores.
"""
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
CLK_TCK = os.sysconf("SC_CLK_TCK")


def fleet_cpu(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # fields[0] is state (field 3); utime, stime, cutime, cstime are fields 14-17
            total += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError):
            pass
    return total / CLK_TCK


def cgroup_cpu(path):
    if os.path.exists(f"{path}/cpuacct.usage"):  # cgroup v1
        with open(f"{path}/cpuacct.usage") as f:
            return int(f.read()) / 1e9
    with open(f"{path}/cpu.stat") as f:  # cgroup v2
        return next(int(l.split()[1]) for l in f if l.startswith("usage_usec")) / 1e6


def machine_busy():
    """CPU seconds all cores have been busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / CLK_TCK  # minus idle and iowait


def descendants(root):
    """Pids of every live process below root (by parent links in /proc)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def children_of(parents):
    """Pids whose parent is one of parents."""
    parents = set(parents)
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) in parents:
                    out.append(int(name))
        except (OSError, IndexError, ValueError):
            pass
    return out


def status_of(pid):
    rss = threads = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
    except OSError:
        pass
    return rss, threads


def main(argv):
    fleet_pids, sample_ms, out, fleet_cgroup = [], 200, None, None
    while argv and argv[0] != "--":
        if argv[0] == "--fleet-pids":
            with open(argv[1]) as f:
                fleet_pids = [int(x) for x in f.read().split()]
            argv = argv[2:]
        elif argv[0] == "--fleet-cgroup":
            ok = argv[1] and any(os.path.exists(f"{argv[1]}/{f}") for f in ("cpuacct.usage", "cpu.stat"))
            fleet_cgroup = argv[1] if ok else None
            argv = argv[2:]
        elif argv[0] == "--out":
            out = argv[1]
            argv = argv[2:]
        elif argv[0] == "--sample-ms":
            sample_ms = int(argv[1])
            argv = argv[2:]
        else:
            sys.exit(f"measure.py: unknown option {argv[0]}")
    cmd = argv[1:]
    if not cmd:
        sys.exit("usage: measure.py [--out FILE] [--fleet-pids FILE] [--fleet-cgroup DIR] [--sample-ms MS] -- COMMAND...")

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("measure.py: prctl(PR_SET_CHILD_SUBREAPER) failed")

    me = os.getpid()
    peak = {"rss": 0, "threads": 0}
    done = threading.Event()

    def sample():
        while not done.wait(sample_ms / 1000):
            rss = threads = 0
            for pid in descendants(me):
                r, t = status_of(pid)
                rss += r
                threads += t
            peak["rss"] = max(peak["rss"], rss)
            peak["threads"] = max(peak["threads"], threads)

    fleet_now = (lambda: cgroup_cpu(fleet_cgroup)) if fleet_cgroup else (lambda: fleet_cpu(fleet_pids))
    fleet_before = fleet_now()
    busy_before = machine_busy()
    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    proc = subprocess.Popen(cmd)
    sampler.start()
    rc = proc.wait()
    wall = time.monotonic() - started
    busy = machine_busy() - busy_before
    done.set()
    sampler.join()

    # Detached descendants (persisted ssh masters) are ours now: stop them and reap everything.
    for pid in descendants(me):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                for p in descendants(me):
                    os.kill(p, signal.SIGKILL)
            time.sleep(0.02)
    # A connection's CPU reaches its listener's cutime/cstime once the listener has reaped it: wait until the
    # listeners have no children left (connections that Ansible's persisted masters held close late).
    deadline = time.monotonic() + 15
    while fleet_pids and time.monotonic() < deadline and any(children_of(fleet_pids)):
        time.sleep(0.05)
    fleet_after = fleet_now()

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    me_ru = resource.getrusage(resource.RUSAGE_SELF)
    fleet = fleet_after - fleet_before
    others = busy - ru.ru_utime - ru.ru_stime - fleet - me_ru.ru_utime - me_ru.ru_stime
    line = json.dumps({
        "rc": rc,
        "wall": round(wall, 3),
        "user": round(ru.ru_utime, 3),
        "sys": round(ru.ru_stime, 3),
        "maxrss_kb": ru.ru_maxrss,
        "tree_rss_kb": peak["rss"],
        "threads": peak["threads"],
        "fleet_cpu": round(fleet, 2),
        "others_cpu": round(max(0.0, others), 2),
        "others_pct": round(max(0.0, others) * 100 / (wall * os.cpu_count()), 1),
        "fleet_cpu_source": "cgroup" if fleet_cgroup else "listeners",
    })
    if out:
        with open(out, "w") as f:
            f.write(line + "\n")
    else:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
