#!/usr/bin/env bash
# What the Docker integration tests need beyond the sshd image, all built here since no public container
# registry is reachable:
#   - an image registry on 127.0.0.1:5000 (Debian's docker-registry, basic auth runbook/runbook-test-pw,
#     storage under $RUNBOOK_REGISTRY_DIR), started in the background unless it already listens;
#   - the sample service images 127.0.0.1:5000/sampled:{1.2.3,1.3.0,2.0.0} built FROM runbook-test/sshd:current
#     with samples/releases/<v>/, pushed there, and their local tags removed so that a test's pull really pulls;
#   - runbook-test/docker-host:current: the sshd image plus Debian's docker-compose (for the compose step).
# Every build is cached by a hash of its inputs. Idempotent; needs root (apt-get) and a running dockerd.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
readonly REGISTRY=127.0.0.1:5000
readonly REG_USER=runbook REG_PASSWORD=runbook-test-pw
readonly REG_DIR="${RUNBOOK_REGISTRY_DIR:-/var/lib/runbook-test-registry}"
readonly VERSIONS=(1.2.3 1.3.0 2.0.0)
log() { echo "docker-test-env: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker daemon is not answering; run scripts/test-env.sh"
docker image inspect runbook-test/sshd:current >/dev/null 2>&1 || die "no runbook-test/sshd:current; run scripts/test-env.sh"
if ! command -v docker-registry >/dev/null; then
  log "installing docker-registry"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >&2
fi
# Debian starts its own registry service on :5000 where systemd runs; ours is configured below.
command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null \
  && systemctl disable --now docker-registry >&2 || true

mkdir -p "$REG_DIR/storage"
exec 9>"$REG_DIR/.lock"
flock 9

listening() { curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/" 2>/dev/null | grep -q '^401$'; }
if ! listening; then
  python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
    "$REG_USER" "$REG_PASSWORD" >"$REG_DIR/htpasswd"
  cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log: {level: warn, fields: {service: registry}}
storage:
  filesystem: {rootdirectory: $REG_DIR/storage}
  delete: {enabled: true}
http: {addr: "$REGISTRY"}
auth:
  htpasswd: {realm: runbook-test, path: $REG_DIR/htpasswd}
EOF
  log "starting docker-registry on $REGISTRY (log: $REG_DIR/registry.log)"
  # 9>&-: the daemon must not inherit (and hold forever) the lock this script takes
  setsid nohup docker-registry serve "$REG_DIR/config.yml" >>"$REG_DIR/registry.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 30); do listening && break; sleep 0.5; done
  listening || { tail -n 20 "$REG_DIR/registry.log" >&2; die "docker-registry did not answer on $REGISTRY"; }
fi

# Pushing needs a login; keep it out of the user's ~/.docker.
export DOCKER_CONFIG="$REG_DIR/docker-config"
mkdir -p "$DOCKER_CONFIG"
echo "$REG_PASSWORD" | docker login -u "$REG_USER" --password-stdin "$REGISTRY" >/dev/null 2>&1 \
  || die "cannot log in to $REGISTRY"

base_id="$(docker image inspect -f '{{.Id}}' runbook-test/sshd:current)"
script_hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
manifest() { curl -sf -u "$REG_USER:$REG_PASSWORD" -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/$1/manifests/$2"; }

for v in "${VERSIONS[@]}"; do
  src="$root/samples/releases/$v"
  hash="$( (echo "$base_id $script_hash"; cd "$src" && find . -type f | sort | xargs sha256sum) | sha256sum | cut -c1-16)"
  stamp="$REG_DIR/stamps/sampled-$v"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$hash" ]] && manifest sampled "$v"; then
    log "sampled:$v is up to date in $REGISTRY"
    continue
  fi
  log "building $REGISTRY/sampled:$v"
  ctx="$(mktemp -d)"
  cp -a "$src" "$ctx/app"
  # The data directory is the volume /data; the config comes from the host at /config/config.json.
  cat >"$ctx/Dockerfile" <<EOF
FROM runbook-test/sshd:current
COPY app /app
RUN mkdir -p /data /config && chmod 0755 /app/sampled.py
LABEL io.runbook.sample.version="$v"
ENV SAMPLED_VERSION=$v
VOLUME /data
EXPOSE 8080
WORKDIR /app
CMD ["python3", "/app/sampled.py", "serve", "--config", "/config/config.json", "--db", "/data/sample.db"]
EOF
  docker build -q -t "$REGISTRY/sampled:$v" "$ctx" >/dev/null
  rm -rf "$ctx"
  docker push -q "$REGISTRY/sampled:$v" >/dev/null
  # Only the registry keeps it: a test's pull must really pull.
  docker rmi "$REGISTRY/sampled:$v" >/dev/null
  mkdir -p "$REG_DIR/stamps"
  echo "$hash" >"$stamp"
done

# The SSH host of the Docker tests: the sshd image plus a compose CLI (Debian's docker-compose, v1).
host_hash="$( (echo "$base_id"; sed -n '/^# docker-host image/,$p' "${BASH_SOURCE[0]}") | sha256sum | cut -c1-12)"
if docker image inspect "runbook-test/docker-host:$host_hash" >/dev/null 2>&1; then
  log "runbook-test/docker-host:$host_hash is up to date"
else
  # docker-host image
  log "building runbook-test/docker-host:$host_hash (apt-get install docker-compose)"
  ctx="$(mktemp -d)"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM runbook-test/sshd:current
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose \
 && rm -rf /var/lib/apt/lists/* && groupadd -f docker
EOF
  docker build --network host -q -t "runbook-test/docker-host:$host_hash" "$ctx" >/dev/null
  rm -rf "$ctx"
fi
docker tag "runbook-test/docker-host:$host_hash" runbook-test/docker-host:current
