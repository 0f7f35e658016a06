#!/usr/bin/python3
"""CPU time of a JVM by thread kind: runs COMMAND (which must exec java, as ./runbook does) and samples
/proc/PID/task/*/stat every 10 ms; a thread's last sample is its CPU time. Threads that live less than one
sample interval (the per-command stream pumps) are missed; the "unattributed" line is their share.

    threadcpu.py COMMAND...
"""
import collections
import os
import re
import resource
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def main():
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = {}
    while p.poll() is None:
        try:
            for tid in os.listdir(f"/proc/{p.pid}/task"):
                try:
                    with open(f"/proc/{p.pid}/task/{tid}/stat") as f:
                        s = f.read()
                except OSError:
                    continue
                name = s[s.index("(") + 1:s.rindex(")")]
                fields = s.rsplit(")", 1)[1].split()
                seen[(tid, name)] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
        time.sleep(0.01)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    agg, count = collections.Counter(), collections.Counter()
    for (tid, name), ticks in seen.items():
        kind = {"C2 CompilerThre": "JIT C2 compiler", "C1 CompilerThre": "JIT C1 compiler",
                "java": "main (java)"}.get(name) or re.sub(r"\d+", "N", name)
        agg[kind] += ticks / CLK
        count[kind] += 1
    print(f"| thread kind | CPU s | share | threads seen |\n|---|---|---|---|")
    for kind, cpu in agg.most_common(12):
        if cpu < 0.005:
            continue
        print(f"| {kind} | {cpu:.2f} | {100 * cpu / total:.0f}% | {count[kind]} |")
    rest = total - sum(agg.values())
    print(f"| unattributed (short-lived threads, exit) | {max(0, rest):.2f} | {100 * max(0, rest) / total:.0f}% | |")
    print(f"| **total (getrusage)** | **{total:.2f}** | | |")


if __name__ == "__main__":
    main()
