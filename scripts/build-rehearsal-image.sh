#!/usr/bin/env bash
# Builds the images of `runbook rehearse` hosts (override per mode with rehearsal.image in the runbook, per
# host with the inventory variable rehearsal_image), committed with a command that just keeps the container
# alive, since rehearsal hosts are reached through the Docker Engine API (ansible_connection: docker), not SSH:
#   (no argument)  runbook/rehearsal, the default: the test image runbook-test/sshd (Debian bookworm with
#                  sudo, python3, sqlite3, curl, tar);
#   compose        runbook/rehearsal-compose, for hosts that run Docker Compose projects (rehearsal.docker):
#                  runbook-test/docker-host, i.e. the same plus Debian's docker-compose (built by
#                  scripts/docker-test-env.sh).
# No registry: the bases are built locally.
#
# Tagged <name>:<hash of this script and the base image id>, and <name>:current, the name runbooks use;
# rebuilt only when either changes. The last line on stdout is the image.
set -euo pipefail

case "${1:-}" in
  "") readonly REPO_NAME=runbook/rehearsal BASE=runbook-test/sshd:current ;;
  compose) readonly REPO_NAME=runbook/rehearsal-compose BASE=runbook-test/docker-host:current ;;
  *) echo "usage: $0 [compose]" >&2; exit 2 ;;
esac
log() { echo "build-rehearsal-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker info >/dev/null 2>&1 || die "the Docker daemon is not answering; run scripts/test-env.sh"
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if [[ -z "${1:-}" ]]; then "$here/build-test-image.sh" >/dev/null
  else die "no $BASE; run scripts/docker-test-env.sh (or scripts/test-env.sh) first"; fi
fi
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
