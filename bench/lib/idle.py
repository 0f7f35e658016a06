#!/usr/bin/python3
"""Waits until the machine is quiet, so that a measured run does not share the cores with someone else's work.

    idle.py MAX_BUSY_PERCENT TIMEOUT_SECONDS

Samples /proc/stat over one second at a time (nothing of the benchmark runs meanwhile, so what is busy is
someone else) until the busy share of all cores is at most MAX_BUSY_PERCENT, or TIMEOUT_SECONDS passed.
Prints the last busy share (percent of all cores) either way; exit code 0 when quiet, 1 on time-out.
"""
import sys
import time


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return idle, sum(fields[:8])


def busy_percent(seconds=1.0):
    i0, t0 = cpu_times()
    time.sleep(seconds)
    i1, t1 = cpu_times()
    return 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))


def main():
    limit, timeout = float(sys.argv[1]), float(sys.argv[2])
    deadline = time.monotonic() + timeout
    while True:
        busy = busy_percent()
        if busy <= limit:
            print(f"{busy:.0f}")
            return 0
        if time.monotonic() > deadline:
            print(f"{busy:.0f}")
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
