# A fake fleet on loopback: N independent OpenSSH daemons, each with its own sshd_config, host key, port
# and pid file, all accepting one generated client key for the login user $FLEET_USER. The daemons run as
# root (sshd needs it to switch to the login user); $FLEET_USER defaults to a dedicated user with a plain
# home, so that no login shell start-up files (a root .bashrc running pyenv init costs ~140 ms) blur the
# per-command cost. Sourced by bench/run.sh; needs $BENCH_DIR, $PORT_BASE and $FLEET_USER.
#
#   fleet_init           the login user (created if missing), client key, known_hosts (once per benchmark)
#   fleet_start N        hosts 1..N up (starts only the missing ones), listener pids in $BENCH_DIR/fleet.pids
#   fleet_stop           stops exactly the daemons this benchmark started, by their pid files
#
# The daemons run in a CPU-accounting cgroup of their own ($FLEET_CGROUP, when the machine lets root make
# one), so that measure.py can count the fleet's CPU exactly, the commands of every session included.

FLEET="$BENCH_DIR/fleet"
CLIENT_KEY="$BENCH_DIR/client/id_ed25519"
KNOWN_HOSTS="$BENCH_DIR/client/known_hosts"

if [ -w /sys/fs/cgroup/cpuacct ]; then
  FLEET_CGROUP="/sys/fs/cgroup/cpuacct/runbook-bench-$PORT_BASE"     # cgroup v1
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
  FLEET_CGROUP="/sys/fs/cgroup/runbook-bench-$PORT_BASE"             # cgroup v2
else
  FLEET_CGROUP=""
fi

host_name() { printf 'h%03d' "$1"; }
host_port() { echo $((PORT_BASE + $1)); }

# Empties host i's work directory (owned by the login user), between runs.
host_clean() {
  local w="$FLEET/$(host_name "$1")/work"
  rm -rf "$w" && mkdir -p "$w" && chown "$FLEET_USER" "$w"
}

fleet_init() {
  if ! id "$FLEET_USER" >/dev/null 2>&1; then
    echo "bench: creating the login user $FLEET_USER for the fake fleet (useradd)" >&2
    useradd --create-home --home-dir "/var/lib/$FLEET_USER" --shell /bin/bash --comment "runbook bench" "$FLEET_USER"
  fi
  # useradd leaves the password "!" (locked), and sshd without PAM refuses locked accounts even for keys;
  # "*" is "no password can match" without the lock.
  if [ "$(getent shadow "$FLEET_USER" | cut -d: -f2)" = "!" ]; then usermod -p '*' "$FLEET_USER"; fi
  mkdir -p "$FLEET" "$BENCH_DIR/client"
  chmod 700 "$BENCH_DIR/client"
  [ -f "$CLIENT_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C runbook-bench -f "$CLIENT_KEY"
  # read by sshd as the login user: not in the private client directory
  cp "$CLIENT_KEY.pub" "$FLEET/authorized_keys"
  chmod 755 "$FLEET"
  chmod 644 "$FLEET/authorized_keys"
  # sshd refuses to start without its privilege separation directory.
  mkdir -p /run/sshd
  chmod 755 /run/sshd
}

fleet_start() {
  local n=$1 i name port dir
  for ((i = 1; i <= n; i++)); do
    name=$(host_name "$i"); port=$(host_port "$i"); dir="$FLEET/$name"
    if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then continue; fi
    mkdir -p "$dir"
    host_clean "$i"
    [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh_host_ed25519_key"
    cat > "$dir/sshd_config" <<EOF
# runbook bench: fake host $name
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $FLEET/authorized_keys
AllowUsers $FLEET_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# the bench files live under /tmp, which is world-writable
StrictModes no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 1000
MaxSessions 1000
MaxAuthTries 10
LogLevel ERROR
Subsystem sftp internal-sftp
EOF
    if ss -Hltn "sport = :$port" | grep -q .; then
      echo "bench: port $port is already in use; pick another base with --port-base" >&2
      return 1
    fi
    # Without -D sshd daemonises once it listens, and writes its pid file.
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  done
  local deadline=$((SECONDS + 30))
  for ((i = 1; i <= n; i++)); do
    dir="$FLEET/$(host_name "$i")"
    until [ -s "$dir/sshd.pid" ]; do
      if ((SECONDS > deadline)); then echo "bench: sshd for $(host_name "$i") did not start; see $dir/sshd.log" >&2; return 1; fi
      sleep 0.05
    done
  done
  if [ -n "$FLEET_CGROUP" ] && { [ -d "$FLEET_CGROUP" ] || mkdir "$FLEET_CGROUP" 2>/dev/null; }; then
    for ((i = 1; i <= n; i++)); do
      cat "$FLEET/$(host_name "$i")/sshd.pid" > "$FLEET_CGROUP/cgroup.procs" 2>/dev/null || true
    done
  fi
  # known_hosts and the pids whose CPU measure.py counts: hosts 1..N
  : > "$BENCH_DIR/fleet.pids"
  : > "$KNOWN_HOSTS"
  for ((i = 1; i <= n; i++)); do
    dir="$FLEET/$(host_name "$i")"
    cat "$dir/sshd.pid" >> "$BENCH_DIR/fleet.pids"
    echo "[127.0.0.1]:$(host_port "$i") $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >> "$KNOWN_HOSTS"
  done
}

fleet_stop() {
  local pidfile pid
  for pidfile in "$FLEET"/*/sshd.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a daemon started with this host's own config: a recycled pid is left alone.
    if [ -n "$pid" ] && grep -qF -- "$(dirname "$pidfile")/sshd_config" "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  # The cgroup goes once its last process has: try for a few seconds, leave it (empty, harmless) otherwise.
  if [ -n "$FLEET_CGROUP" ] && [ -d "$FLEET_CGROUP" ]; then
    local k
    for ((k = 0; k < 50; k++)); do rmdir "$FLEET_CGROUP" 2>/dev/null && break; sleep 0.1; done
  fi
}
