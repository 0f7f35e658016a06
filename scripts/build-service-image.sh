#!/usr/bin/env bash
# Builds runbook-test/service: the Debian bookworm OpenSSH test host (runbook-test/sshd:current, from
# scripts/build-test-image.sh) plus Debian's haproxy, socat, postgresql (15) and postgresql-client, for the
# tests of the haproxy step and of whole-service upgrades on a shared database. No container registry is
# needed: the packages come from the Debian mirror through apt-get inside the build, with the host network.
#
# Nothing is started at build time (a policy-rc.d forbids it during the install) and nothing starts with the
# container but sshd: the tests start HAProxy and PostgreSQL over SSH (or by the container command).
# Debian's postgresql package creates the cluster 15/main (owner postgres, data /var/lib/postgresql/15/main);
# start it with `pg_ctlcluster 15 main start` (as root) and reach it as `sudo -u postgres psql`.
# haproxy's /etc/haproxy/haproxy.cfg is Debian's default; /run/haproxy exists (owned by haproxy).
#
# The image is tagged runbook-test/service:<hash of this script and of the sshd image>, so it is rebuilt only
# when either changes, and runbook-test/service:current, the name the tests use.
# Progress goes to stderr; the last line on stdout is the image name.
#
# Environment: RUNBOOK_DEBIAN_MIRROR (default: the sshd image's own sources.list).
set -Eeuo pipefail

readonly REPO_NAME=runbook-test/service
readonly BASE=runbook-test/sshd:current
readonly PACKAGES="haproxy socat postgresql postgresql-client"

log() { echo "build-service-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$(readlink -f "${BASH_SOURCE[0]}")"

command -v docker >/dev/null || die "docker is not installed; run scripts/test-env.sh"
docker info >/dev/null 2>&1 || die "the Docker daemon is not answering; run scripts/test-env.sh"
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  "$here/build-test-image.sh" >/dev/null
fi
base_id="$(docker image inspect -f '{{.Id}}' "$BASE")"
tag="$( (echo "$base_id ${RUNBOOK_DEBIAN_MIRROR:-}"; cat "$script") | sha256sum | cut -c1-12)"
image="$REPO_NAME:$tag"

up_to_date() {
  docker image inspect "$image" >/dev/null 2>&1 || return 1
  docker tag "$image" "$REPO_NAME:current"
  log "$image is up to date"
  echo "$image"
}
up_to_date && exit 0

# One build at a time on this machine: a second caller waits, then finds the image built.
lock_dir="${RUNBOOK_IMAGE_CACHE:-/var/cache/runbook-test-image}"
mkdir -p "$lock_dir"
exec 9>"$lock_dir/.service-lock"
flock 9
up_to_date && exit 0

started=$SECONDS
log "building $image (apt-get install $PACKAGES on $BASE)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mirror_line=""
[[ -z ${RUNBOOK_DEBIAN_MIRROR:-} ]] || mirror_line="RUN echo 'deb $RUNBOOK_DEBIAN_MIRROR bookworm main' >/etc/apt/sources.list"
cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
$mirror_line
# policy-rc.d exit 101: the maintainer scripts must not start haproxy or the PostgreSQL cluster in the build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null \\
 && rm -f /usr/sbin/policy-rc.d \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /usr/share/doc/* /usr/share/man/* \\
 && install -d -o haproxy -g haproxy /run/haproxy \\
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql \\
 && test -x /usr/lib/postgresql/15/bin/postgres && command -v haproxy socat psql pg_ctlcluster >/dev/null
LABEL io.runbook.test.service="haproxy socat postgresql-15 postgresql-client"
EOF
docker build --network host -q -t "$image" "$ctx" >/dev/null || die "docker build failed (network to the Debian mirror?)"
docker tag "$image" "$REPO_NAME:current"
# Images of older versions of this script; one still used by a running container stays.
for old in $(docker images "$REPO_NAME" --format '{{.Tag}}' | grep -vx -e "$tag" -e current); do
  docker rmi "$REPO_NAME:$old" >/dev/null 2>&1 || true
done
log "built $image in $((SECONDS - started)) s"
echo "$image"
