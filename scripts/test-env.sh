#!/usr/bin/env bash
# Makes this machine ready for the integration tests: Docker, debootstrap, ssh-keygen, kubectl, chromium and
# ansible-core installed, the Docker daemon answering, and the test images (runbook-test/sshd:current,
# runbook-test/service:current) and the rehearsal
# images (runbook/rehearsal:current, runbook/rehearsal-compose:current) built. Idempotent; takes a
# fraction of a second when everything is already in place.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # dockerd and debootstrap live in sbin

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "test-env: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

sudo=""
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null || die "not root and no sudo: run this script as root"
  sudo="sudo"
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io openssh-server)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# The tests make their keys with ssh-keygen; runbook resolves ssh_config with ssh -G; BastionIT runs ssh-agent.
(command -v ssh-keygen && command -v ssh && command -v ssh-agent && command -v ssh-add) >/dev/null || missing+=(openssh-client)
command -v sqlite3 >/dev/null || missing+=(sqlite3)               # the local sample tests run it
command -v kubectl >/dev/null || missing+=(kubernetes-client)   # the kubectl step's command lines meet the real client
command -v chromium >/dev/null || missing+=(chromium)             # the report's browser test (ReportBrowserIT)
command -v ansible-inventory >/dev/null || missing+=(ansible-core) # the inventory differential test and vault tests
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null || missing+=(postgresql) # migrate's tests
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

if ! docker info >/dev/null 2>&1; then
  daemon_log=/var/log/runbook-dockerd.log
  touch "$daemon_log" 2>/dev/null || daemon_log=/tmp/runbook-dockerd.log
  log "starting dockerd (log: $daemon_log)"
  # setsid: the daemon must outlive this script and not get the terminal's signals.
  $sudo setsid nohup dockerd >>"$daemon_log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || {
    tail -n 20 "$daemon_log" >&2 || true
    die "dockerd did not answer within 60 s; see $daemon_log"
  }
  log "dockerd is up"
fi

"$here/build-test-image.sh"
# haproxy, socat and PostgreSQL on the sshd host: the haproxy step's and the whole-service tests.
"$here/build-service-image.sh" >/dev/null
"$here/build-rehearsal-image.sh" >/dev/null
# The Docker tests: a loopback image registry holding the sample images, and the docker-host image.
"$here/docker-test-env.sh"
# The rehearsal image of compose hosts starts from the docker-host image built just above.
"$here/build-rehearsal-image.sh" compose >/dev/null
