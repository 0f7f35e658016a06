#!/usr/bin/env bash
# Builds the default image of `runbook rehearse` hosts (override per host with the inventory variable
# rehearsal_image): the test image runbook-test/sshd (Debian bookworm with sudo, python3, sqlite3, curl, tar)
# committed with a command that just keeps the container alive, since rehearsal hosts are reached through
# the Docker Engine API (ansible_connection: docker), not SSH. No registry: the base is built locally by
# scripts/build-test-image.sh.
#
# Tagged runbook/rehearsal:<hash of this script and the base image id>, and runbook/rehearsal:current, the
# name runbook uses by default; rebuilt only when either changes. The last line on stdout is the image.
set -euo pipefail

readonly REPO_NAME=runbook/rehearsal
readonly BASE=runbook-test/sshd:current
log() { echo "build-rehearsal-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker info >/dev/null 2>&1 || die "the Docker daemon is not answering; run scripts/test-env.sh"
docker image inspect "$BASE" >/dev/null 2>&1 || "$here/build-test-image.sh" >/dev/null
base_id="$(docker image inspect --format '{{.Id}}' "$BASE")"
tag="$( (sha256sum "${BASH_SOURCE[0]}" | cut -c1-64; echo "$base_id") | sha256sum | cut -c1-12)"
image="$REPO_NAME:$tag"

if ! docker image inspect "$image" >/dev/null 2>&1; then
  log "building $image from $BASE"
  c="$(docker create --label io.runbook.build=rehearsal-image "$BASE" true)"
  trap 'docker rm -f "$c" >/dev/null 2>&1 || true' EXIT
  docker commit --change 'CMD ["sleep", "infinity"]' --change 'LABEL io.runbook.image=rehearsal' \
    --message "runbook rehearsal host ($tag)" "$c" "$image" >/dev/null
  for old in $(docker images "$REPO_NAME" --format '{{.Tag}}' | grep -vx -e "$tag" -e current); do
    docker rmi "$REPO_NAME:$old" >/dev/null 2>&1 || true
  done
else
  log "$image is up to date"
fi
docker tag "$image" "$REPO_NAME:current"
echo "$image"
