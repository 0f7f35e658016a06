#!/usr/bin/env bash
# Builds the Debian bookworm OpenSSH image the integration tests start hosts from, without any container
# registry: debootstrap a minimal root file system, configure it, and `docker import` it.
#
# The image is tagged runbook-test/sshd:<hash of this script>, so it is built once and rebuilt only when
# this script changes; it is also tagged runbook-test/sshd:current, the name the test fixtures use.
# Progress goes to stderr; the last line on stdout is the image name.
#
# Environment: RUNBOOK_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              RUNBOOK_IMAGE_CACHE (default /var/cache/runbook-test-image; keeps the downloaded .debs).
set -Eeuo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # debootstrap and chroot live in sbin

readonly REPO_NAME=runbook-test/sshd
readonly SUITE=bookworm
readonly MIRROR="${RUNBOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly CACHE="${RUNBOOK_IMAGE_CACHE:-/var/cache/runbook-test-image}"
readonly PACKAGES=openssh-server,sudo,python3,sqlite3,curl,ca-certificates,procps,bash,coreutils,tar,gzip,\
iproute2,netcat-openbsd
# Each container makes its own host keys at start, so that no two test hosts share an identity.
readonly CMD='["/bin/sh","-c","ssh-keygen -A >/dev/null && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"]'

log() { echo "build-test-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

script="$(readlink -f "${BASH_SOURCE[0]}")"
tag="$(sha256sum "$script" | cut -c1-12)"
image="$REPO_NAME:$tag"

command -v docker >/dev/null || die "docker is not installed; run scripts/test-env.sh"
docker info >/dev/null 2>&1 || die "the Docker daemon is not answering; run scripts/test-env.sh"

up_to_date() {
  docker image inspect "$image" >/dev/null 2>&1 || return 1
  docker tag "$image" "$REPO_NAME:current"
  log "$image is up to date"
  echo "$image"
}
up_to_date && exit 0

[[ $EUID -eq 0 ]] || die "debootstrap needs root; run this script as root (or with sudo)"
command -v debootstrap >/dev/null || die "debootstrap is not installed; run scripts/test-env.sh"

mkdir -p "$CACHE/debs"
# One build at a time on this machine: a second caller waits, then finds the image built.
exec 9>"$CACHE/.lock"
flock 9
up_to_date && exit 0
build_log="$CACHE/build.log"
: >"$build_log"
work="$(mktemp -d /var/tmp/runbook-test-image.XXXXXX)"
rootfs="$work/rootfs"

cleanup() {
  # debootstrap unmounts /proc and /sys itself, but not when it is killed half-way.
  local m
  for m in $(awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$work"
}
on_error() {
  local line=$1 cmd=$2
  [[ -z ${failed:-} ]] || return 0 # with errtrace the trap fires in a function and again in its caller
  failed=1
  log "ERROR: '$cmd' failed (line $line). Last lines of $build_log:"
  tail -n 25 "$build_log" >&2 || true
  log "Fix the cause (network to $MIRROR? disk space? docker daemon?) and rerun: $script"
}
trap cleanup EXIT
trap 'on_error $LINENO "$BASH_COMMAND"' ERR

started=$SECONDS
log "building $image (debootstrap $SUITE from $MIRROR; log: $build_log)"
debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE/debs" \
  "$SUITE" "$rootfs" "$MIRROR" >>"$build_log" 2>&1

log "configuring the root file system"
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" >>"$build_log" 2>&1; }

# '*' rather than useradd's locked '!': sshd refuses public-key logins to locked accounts without PAM.
in_root useradd --create-home --uid 1000 --user-group --shell /bin/bash runbook
in_root usermod --password '*' runbook
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/runbook/.ssh"
echo 'runbook ALL=(ALL) NOPASSWD:ALL' >"$rootfs/etc/sudoers.d/runbook"
chmod 0440 "$rootfs/etc/sudoers.d/runbook"

# sshd takes the first value it reads for an option, and Debian's sshd_config includes this file first.
cat >"$rootfs/etc/ssh/sshd_config.d/runbook.conf" <<'EOF'
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
# No PAM: nothing to gain in a test host, and its session modules (pam_loginuid) can fail in containers.
UsePAM no
UseDNS no
MaxSessions 100
MaxStartups 100:30:200
EOF
rm -f "$rootfs"/etc/ssh/ssh_host_*

# Lean: no package lists, docs or manuals; docker provides /etc/hosts, /etc/hostname and resolv.conf.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/log/*.log
: >"$rootfs/etc/machine-id"

log "importing into docker"
# --numeric-owner: the image must carry the chroot's uids (runbook = 1000), not names resolved here.
tar --numeric-owner -C "$rootfs" -c . \
  | docker import --change "CMD $CMD" --change 'EXPOSE 22' --message "runbook test sshd ($tag)" - "$image" \
    >>"$build_log" 2>&1
docker tag "$image" "$REPO_NAME:current"
# Images of older versions of this script; one still used by a running container stays.
for old in $(docker images "$REPO_NAME" --format '{{.Tag}}' | grep -vx -e "$tag" -e current); do
  docker rmi "$REPO_NAME:$old" >/dev/null 2>&1 || true
done
log "built $image in $((SECONDS - started)) s"
echo "$image"
