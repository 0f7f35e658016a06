#!/usr/bin/env bash
# runbook benchmark: the same workload run by `runbook apply`, by `ansible-playbook` and by plain OpenSSH
# with one multiplexed connection per host (the raw limit), on a fake fleet of OpenSSH daemons on loopback.
# See bench/README.md.
#
#   bench/run.sh [--quick] [--configs "NxM ..."] [--reps R] [--tools "runbook ansible raw"]
#                [--startup-runs K] [--payload-kb KB] [--port-base P] [--user LOGIN] [--bench-dir DIR]
#                [--results FILE] [--no-limits] [--max-busy PCT] [--quiet-wait SECONDS]
#                [--runbook-java-opts OPTS]
#
# runbook runs with RUNBOOK_JAVA_OPTS=-Xmx256m (the heap target; --runbook-java-opts changes it) and a GC
# log, from which the results report the most heap the run used.
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
lib="$repo/bench/lib"
PY=/usr/bin/python3

CONFIGS="1x20 10x20 50x20 200x5"
REPS=3
TOOLS="runbook ansible raw"
STARTUP_RUNS=5
PAYLOAD_KB=16
PORT_BASE=22200
FLEET_USER=rbbench
BENCH_DIR=/tmp/runbook-bench
RESULTS="$repo/bench/RESULTS.md"
LIMITS=1
MAX_BUSY=15
QUIET_WAIT=60
RUNBOOK_OPTS="-Xmx256m"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) CONFIGS="1x20 10x20"; shift ;;
    --configs) CONFIGS="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    --startup-runs) STARTUP_RUNS="$2"; shift 2 ;;
    --payload-kb) PAYLOAD_KB="$2"; shift 2 ;;
    --port-base) PORT_BASE="$2"; shift 2 ;;
    --user) FLEET_USER="$2"; shift 2 ;;
    --bench-dir) BENCH_DIR="$2"; shift 2 ;;
    --results) RESULTS="$2"; shift 2 ;;
    --no-limits) LIMITS=0; shift ;;
    --max-busy) MAX_BUSY="$2"; shift 2 ;;
    --quiet-wait) QUIET_WAIT="$2"; shift 2 ;;
    --runbook-java-opts) RUNBOOK_OPTS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# A shared machine: before each measured run, wait (up to --quiet-wait s) until other processes use at
# most --max-busy % of the cores; the share seen is recorded with the run ("busy%" in the results).
quiet() {
  local busy
  if busy=$("$PY" "$lib/idle.py" "$MAX_BUSY" "$QUIET_WAIT"); then echo "$busy"; return; fi
  log "the machine is still ${busy}% busy with other work after ${QUIET_WAIT}s; measuring anyway"
  echo "$busy"
}

# ---- prerequisites: root (sshd, useradd), OpenSSH server, Ansible from Debian, python3, Java + Maven
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: run as root: it starts sshd daemons and may create the login user $FLEET_USER" >&2
  exit 2
fi
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
[ -x "$PY" ] || missing+=(python3)
[[ " $TOOLS " != *" ansible "* ]] || command -v ansible-playbook >/dev/null || missing+=(ansible-core)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi
command -v java >/dev/null || { echo "bench: java (17) is needed" >&2; exit 2; }

# 200 hosts: every connection, pipe and forked worker needs descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

export BENCH_DIR PORT_BASE FLEET_USER
# shellcheck source=lib/fleet.sh
source "$lib/fleet.sh"

stamp=$(date +%Y%m%d-%H%M%S)
data="$BENCH_DIR/results/$stamp"
mkdir -p "$data"
jsonl="$data/results.jsonl"
: > "$jsonl"

trap 'fleet_stop' EXIT
trap 'exit 130' INT TERM

log "building the runbook jar if needed"
"$repo/runbook" --help >/dev/null

fleet_init
log "results: $data"

# Checks that every host holds what the workload writes, and that runbook released its lock.
verify() {
  local n=$1 dir=$2 i w name size
  for ((i = 1; i <= n; i++)); do
    w="$FLEET/$(host_name "$i")/work"
    while read -r name size; do
      [ -s "$w/$name" ] || { echo "missing $w/$name"; return 1; }
      if [ "$size" != "-" ] && [ "$(stat -c %s "$w/$name")" != "$size" ]; then echo "wrong size: $w/$name"; return 1; fi
    done < "$dir/expect"
    [ ! -e "$w/runbook.lock" ] || { echo "lock left behind: $w/runbook.lock"; return 1; }
  done
}

# run_one TOOL N M REP DIR [forks] [java opts] [label]: cleans the hosts, runs TOOL once under measure.py,
# checks the hosts, appends one JSON line to $jsonl. Fails the benchmark when the run failed.
run_one() {
  local tool=$1 n=$2 m=$3 rep=$4 dir=$5 forks=${6:-$2} jopts=${7:-$RUNBOOK_OPTS} label=${8:-$1}
  local i out="$dir/logs/$label-rep$rep.log" meas="$dir/logs/$label-rep$rep.json" problem busy=-
  local gclog="$dir/logs/$label-rep$rep.gc.log"
  for ((i = 1; i <= n; i++)); do host_clean "$i"; done
  mkdir -p "$dir/logs"
  rm -rf "$dir/state-$label-rep$rep"
  ((rep == 0)) || busy=$(quiet)
  case "$tool" in
    runbook)
      rm -f "$gclog"
      (cd "$dir" && RUNBOOK_JAVA_OPTS="$jopts -Xlog:gc,gc+heap+exit:file=$gclog" "$PY" "$lib/measure.py" --out "$meas" --fleet-pids "$BENCH_DIR/fleet.pids" --fleet-cgroup "$FLEET_CGROUP" -- \
        "$repo/runbook" apply runbook.yaml -i inventory.yaml --forks "$forks" --yes \
        --known-hosts "$KNOWN_HOSTS" --state-dir "$dir/state-$label-rep$rep") > "$out" 2>&1 || true ;;
    ansible)
      (cd "$dir" && ANSIBLE_CONFIG="$dir/ansible.cfg" "$PY" "$lib/measure.py" --out "$meas" --fleet-pids "$BENCH_DIR/fleet.pids" --fleet-cgroup "$FLEET_CGROUP" -- \
        ansible-playbook playbook.yml) > "$out" 2>&1 || true ;;
    raw)
      (cd "$dir" && "$PY" "$lib/measure.py" --out "$meas" --fleet-pids "$BENCH_DIR/fleet.pids" --fleet-cgroup "$FLEET_CGROUP" -- ./raw.sh) > "$out" 2>&1 || true ;;
  esac
  if [ ! -s "$meas" ]; then echo "bench: $label ${n}x$m rep $rep: no measurement; see $out" >&2; exit 1; fi
  problem=$(verify "$n" "$dir") || true
  if [ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' "$meas")" != 0 ] || [ -n "$problem" ]; then
    echo "bench: $label ${n}x$m rep $rep failed${problem:+: $problem}; see $out" >&2
    tail -20 "$out" >&2
    exit 1
  fi
  ((rep > 0)) || return 0 # a warm-up run is checked, not recorded
  "$PY" "$lib/report.py" add "$jsonl" "$meas" kind=workload tool="$tool" label="$label" hosts="$n" steps="$m" \
    rep="$rep" forks="$forks" java_opts="$([ "$tool" = runbook ] && echo "$jopts")" busy_before="$busy" log="$out" \
    gc_log="$([ "$tool" = runbook ] && echo "$gclog")" \
    journal="$(ls -d "$dir/state-$label-rep$rep"/runs/*/journal.jsonl 2>/dev/null | head -1)"
  log "$(printf '%-8s %4dx%-3d rep %d  %s  (busy before: %s%%)' "$label" "$n" "$m" "$rep" "$("$PY" "$lib/report.py" brief "$meas")" "$busy")"
}

gen() {
  local n=$1 m=$2 dir=$3
  "$PY" "$lib/gen.py" --hosts "$n" --steps "$m" --dir "$dir" --fleet "$FLEET" --port-base "$PORT_BASE" \
    --key "$CLIENT_KEY" --known-hosts "$KNOWN_HOSTS" --user "$FLEET_USER" --payload-kb "$PAYLOAD_KB"
}

# ---- start-up: validate and plan, JVM start included, as a user runs them
startup() {
  local label=$1; shift
  local k meas busy
  ((STARTUP_RUNS > 0)) || return 0
  for ((k = 1; k <= STARTUP_RUNS; k++)); do
    meas="$data/startup-$label-$k.json"
    busy=$(quiet)
    (cd "$repo" && "$PY" "$lib/measure.py" --out "$meas" -- "$@") > "$data/startup-$label.log" 2>&1 \
      || { echo "bench: '$*' failed; see $data/startup-$label.log" >&2; exit 1; }
    "$PY" "$lib/report.py" add "$jsonl" "$meas" kind=startup label="$label" rep="$k" cmd="$*" busy_before="$busy"
  done
  log "startup  $label: $("$PY" "$lib/report.py" brief "$meas") (last of $STARTUP_RUNS)"
}
log "start-up: $STARTUP_RUNS runs each of validate and plan"
startup "java -version" java -version
startup "runbook validate" ./runbook validate runbooks/upgrade-v2.yaml
startup "runbook plan" ./runbook plan runbooks/upgrade-v2.yaml -i inventory/prod.yaml

# ---- the workloads
first=1
max_n=0
for cfg in $CONFIGS; do
  n=${cfg%x*}; m=${cfg#*x}
  ((n > max_n)) && max_n=$n && max_m=$m
  dir="$BENCH_DIR/runs/n$(printf %03d "$n")-m$(printf %02d "$m")"
  log "config ${n} hosts x ${m} steps: starting the fleet"
  fleet_start "$n"
  gen "$n" "$m" "$dir"
  if ((first)); then
    # Not measured: loads the JVM, Python and ssh binaries into the page cache, and checks every tool works.
    log "warm-up (not measured)"
    for tool in $TOOLS; do run_one "$tool" "$n" "$m" 0 "$dir"; done
    first=0
  fi
  for ((rep = 1; rep <= REPS; rep++)); do
    for tool in $TOOLS; do run_one "$tool" "$n" "$m" "$rep" "$dir"; done
  done
done

# ---- heap and threads at the largest fleet: -Xmx256m, forks = N and forks = N/10
if ((LIMITS)) && [[ " $TOOLS " == *" runbook "* ]]; then
  dir="$BENCH_DIR/runs/n$(printf %03d "$max_n")-m$(printf %02d "$max_m")"
  few=$(( (max_n + 9) / 10 ))
  log "limits at $max_n hosts: -Xmx256m with --forks $max_n and --forks $few"
  run_one runbook "$max_n" "$max_m" 1 "$dir" "$max_n" "-Xmx256m" "runbook-xmx256m"
  run_one runbook "$max_n" "$max_m" 1 "$dir" "$few" "-Xmx256m" "runbook-xmx256m-forks$few"
fi

fleet_stop
trap - EXIT

"$PY" "$lib/report.py" render "$jsonl" "$RESULTS" --repo "$repo"
log "wrote $RESULTS (raw data: $jsonl)"
