#!/usr/bin/env bash
# test-sample.sh: exercises the sample service for real, the way a runbook would drive it on a host:
# install 1.2.3, upgrade to 2.0.0 (migrate with the new release, new config, flip `current`), roll back
# by restoring the backup, plus the failure modes the runbooks must handle.
# Needs only bash, python3 (stdlib), sqlite3, curl, coreutils, procps. Exit status 0 = all checks passed.
set -u

SAMPLES=$(cd "$(dirname "$0")" && pwd)
REL=$SAMPLES/releases
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sample-test.XXXXXX")
APP=$TMP/app
FAILED=0

cleanup() {
  # Stop only the service this test started (sampledctl works from the pid file), then remove the dir.
  [ -d "$APP" ] && "$REL/2.0.0/sampledctl" stop "$APP" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILED=1; }
step() { echo; echo "== $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
contains() { case $1 in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# run VAR_PREFIX cmd...: captures stdout, stderr and exit code into ${P}_out, ${P}_err, ${P}_rc.
run() {
  local p=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  printf -v "${p}_rc" %s $?
  printf -v "${p}_out" %s "$(cat "$TMP/out")"
  printf -v "${p}_err" %s "$(cat "$TMP/err")"
}
show() { sed 's/^/       | /' <<<"$1"; }
last_line() { printf %s "${1##*$'\n'}"; }

# Starts the service the way an SSH exec or a Java ProcessBuilder does: with stdout/stderr on a pipe
# whose reader waits for EOF. If the daemon inherited the pipe, EOF would never come: read -t turns
# that hang into a failure. Sets st_out and st_rc.
start_via_pipe() {
  local line
  rm -f "$TMP/fifo" && mkfifo "$TMP/fifo"
  "$APP/current/sampledctl" start "$APP" >"$TMP/fifo" 2>&1 &
  local ctl=$!
  st_out="" st_rc=0
  exec 9<"$TMP/fifo"
  while IFS= read -r -t 20 -u 9 line; do st_out+=$line$'\n'; done
  [ $? -gt 128 ] && st_rc=124  # read timed out: someone still holds the pipe open
  exec 9<&-
  if [ "$st_rc" = 0 ]; then wait "$ctl"; st_rc=$?; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Renders a config template the way the engine would ([=name] placeholders), with sed.
render() {
  sed -e "s|\[=port\]|$PORT|g" -e "s|\[=app_dir\]|$APP|g" \
      -e "s|\[=session_secret\]|s3ss10n-secret-0123456789|g" \
      -e "s|\[=sudo_mode_secret\]|sud0-m0de-secret-0123456789|g" \
      -e "s|\[=connection_initiation_secret\]|c0nn-init-secret-0123456789|g" "$1"
}

health() { curl -sf -m 3 "http://127.0.0.1:$PORT/_health"; }

PORT=$(free_port)
echo "temp dir $TMP, port $PORT"

step "releases report their version"
for v in 1.2.3 1.3.0 2.0.0; do
  check "sampled.py --version = $v" [ "$(python3 "$REL/$v/sampled.py" --version)" = "$v" ]
  check "$v/sampledctl is executable" [ -x "$REL/$v/sampledctl" ]
done

step "install 1.2.3"
mkdir -p "$APP/releases" "$APP/config" "$APP/data"
cp -a "$REL/1.2.3" "$APP/releases/"
ln -sfn releases/1.2.3 "$APP/current"
render "$APP/current/config.template.json" >"$APP/config/config.json"
check "rendered config has no placeholders left" bash -c "! grep -q '\[=' '$APP/config/config.json'"
run cc python3 "$APP/current/sampled.py" check-config --config "$APP/config/config.json"
check "1.2.3 check-config: '$cc_out'" [ "$cc_rc" = 0 ]
run m python3 "$APP/current/sampled.py" migrate --db "$APP/data/sample.db"
show "$m_out"
check "migrate 1.2.3 applied 001_init.sql" contains "$m_out" "[INFO] Applied migration: 001_init.sql"
check "migrate 1.2.3 summary" contains "$m_out" "[INFO] Migrations complete (1 applied, 0 skipped)"
run s python3 "$APP/current/sampled.py" seed --db "$APP/data/sample.db"
check "seed: $s_out" [ "$s_rc" = 0 ]
check "journal mode is the default rollback journal (not WAL)" \
  [ "$(sqlite3 "$APP/data/sample.db" 'PRAGMA journal_mode')" = delete ]

start_via_pipe
show "$st_out"
check "sampledctl start exits 0 and its output pipe reaches EOF (rc $st_rc)" [ "$st_rc" = 0 ]
PID=$(cat "$APP/run/sampled.pid")
check "the daemon holds no pipe fds" bash -c "! ls -l /proc/$PID/fd | grep -q pipe:"
check "the daemon runs in its own session (setsid)" [ "$(ps -o sid= -p "$PID" | tr -d ' ')" = "$PID" ]
H=$(health)
show "$H"
check "/_health reports 1.2.3" contains "$H" '"version": "1.2.3"'
check "/_health reports 1 migration" contains "$H" '"migrations": 1'
check "/api/messages lists the seeded messages" contains "$(curl -sf "http://127.0.0.1:$PORT/api/messages")" "hello from alice"
check "unknown path is 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" = 404 ]
run ss "$APP/current/sampledctl" status "$APP"
check "status while running exits 0: $ss_out" [ "$ss_rc" = 0 ]
run st timeout 30 "$APP/current/sampledctl" start "$APP"
check "start when running is a no-op (exit 0): $st_out" [ "$st_rc" = 0 ]

step "stop 1.2.3 and back up (the DB must be byte-stable while served)"
SUM_BEFORE=$(sha256sum <"$APP/data/sample.db")
curl -sf "http://127.0.0.1:$PORT/api/messages" >/dev/null
run sp "$APP/current/sampledctl" stop "$APP"
check "stop exits 0: $sp_out" [ "$sp_rc" = 0 ]
check "server logged a clean SIGTERM shutdown" grep -q "received SIGTERM, shutting down" "$APP/log/sampled.log"
check "pid file removed" [ ! -e "$APP/run/sampled.pid" ]
check "nothing listens any more" bash -c "! curl -sf -m 2 http://127.0.0.1:$PORT/_health"
run ss "$APP/current/sampledctl" status "$APP"
check "status when stopped exits 3: $ss_out" [ "$ss_rc" = 3 ]
run sp "$APP/current/sampledctl" stop "$APP"
check "stop when stopped is a no-op (exit 0)" [ "$sp_rc" = 0 ]
check "serving did not change a byte of the DB" [ "$(sha256sum <"$APP/data/sample.db")" = "$SUM_BEFORE" ]
mkdir -p "$TMP/backup"
cp "$APP/data/sample.db" "$TMP/backup/sample.db"
cp "$APP/config/config.json" "$TMP/backup/config.json"
check "backup is a byte-exact copy" cmp -s "$APP/data/sample.db" "$TMP/backup/sample.db"

step "config: the 2.0.0 breaking change"
run cc python3 "$REL/2.0.0/sampled.py" check-config --config "$APP/config/config.json"
show "$cc_out"
check "2.0.0 check-config of the 1.x config exits 1" [ "$cc_rc" = 1 ]
check "... reports \$.services.queue" contains "$cc_out" '$.services.queue: missing required property "storage_backend"'
check "... reports \$.auth" contains "$cc_out" '$.auth: missing required property "sudo_mode_secret"'
check "... names the removed data_dir" contains "$cc_out" '$.services.queue: unexpected property "data_dir"'
render "$REL/2.0.0/config.template.json" >"$TMP/config-2.0.0.json"
run cc python3 "$REL/1.2.3/sampled.py" check-config --config "$TMP/config-2.0.0.json"
check "1.2.3 check-config of the 2.0.0 config exits 1 (vice versa)" [ "$cc_rc" = 1 ]
run cc python3 "$REL/2.0.0/sampled.py" check-config --config "$TMP/config-2.0.0.json"
check "2.0.0 check-config of the rendered 2.0.0 template: $cc_out" [ "$cc_rc" = 0 ]

step "upgrade to 2.0.0, forgetting to migrate: start must fail fast"
cp -a "$REL/2.0.0" "$APP/releases/"
cp "$TMP/config-2.0.0.json" "$APP/config/config.json"
ln -sfn releases/2.0.0 "$APP/current"
run st timeout 30 "$APP/current/sampledctl" start "$APP"
show "$st_err"
check "sampledctl start exits 1" [ "$st_rc" = 1 ]
check "... and shows the fail-fast message" contains "$st_err" \
  "[FATAL] database is missing migrations: 002_add_user_badges.sql, 003_threads.sql — run 'sampled.py migrate --db $APP/data/sample.db' with this release first"
check "... and left no pid file" [ ! -e "$APP/run/sampled.pid" ]
check "the failed start did not touch the DB" cmp -s "$APP/data/sample.db" "$TMP/backup/sample.db"

step "2.0.0 against a DB at 1.3.0 (missing only 003) fails fast with exit 2"
cp "$TMP/backup/sample.db" "$TMP/at-1.3.0.db"
python3 "$REL/1.3.0/sampled.py" migrate --db "$TMP/at-1.3.0.db" >/dev/null
run sv timeout 10 python3 "$REL/2.0.0/sampled.py" serve --config "$APP/config/config.json" --db "$TMP/at-1.3.0.db"
show "$sv_err"
check "serve exits 2" [ "$sv_rc" = 2 ]
check "... with the missing-migrations message" contains "$sv_err" \
  "[FATAL] database is missing migrations: 003_threads.sql — run 'sampled.py migrate --db $TMP/at-1.3.0.db' with this release first"

step "migrate with the 2.0.0 file, then start 2.0.0"
run m python3 "$APP/current/sampled.py" migrate --db "$APP/data/sample.db" --timeout-ms 60000
show "$m_out"
check "migrate 2.0.0 exits 0" [ "$m_rc" = 0 ]
check "... applied 003_threads.sql" contains "$m_out" "[INFO] Applied migration: 003_threads.sql"
check "... summary (2 applied, 1 skipped)" contains "$m_out" "[INFO] Migrations complete (2 applied, 1 skipped)"
SUM_MIGRATED=$(sha256sum <"$APP/data/sample.db")
run m python3 "$APP/current/sampled.py" migrate --db "$APP/data/sample.db"
check "re-running migrate is a no-op: $(last_line "$m_out")" contains "$m_out" "(0 applied, 3 skipped)"
check "... that leaves the DB byte-identical" [ "$(sha256sum <"$APP/data/sample.db")" = "$SUM_MIGRATED" ]

# Flipt: migrations stay compatible with the old server, so 1.2.3 still runs on the migrated DB.
run m python3 "$REL/1.2.3/sampled.py" migrate --db "$APP/data/sample.db"
check "1.2.3 migrate on the 2.0.0 DB warns: $(sed -n 2p <<<"$m_out")" contains "$m_out" "[WARN] Database records migrations unknown to 1.2.3"
python3 "$REL/1.2.3/sampled.py" serve --config "$TMP/backup/config.json" --db "$APP/data/sample.db" \
  </dev/null >"$TMP/old-server.log" 2>&1 &
OLD=$!
for _ in $(seq 50); do H=$(health) && break; sleep 0.1; done
check "1.2.3 serves the 2.0.0-migrated DB: $H" contains "$H" '"version": "1.2.3"'
kill -TERM "$OLD"; wait "$OLD"
check "1.2.3 exits 0 on SIGTERM" [ $? = 0 ]
check "... and the DB is still byte-identical" [ "$(sha256sum <"$APP/data/sample.db")" = "$SUM_MIGRATED" ]

run st timeout 30 "$APP/current/sampledctl" start "$APP"
show "$st_out$st_err"
check "sampledctl start 2.0.0 exits 0" [ "$st_rc" = 0 ]
H=$(health)
check "/_health reports 2.0.0: $H" contains "$H" '"version": "2.0.0"'
check "/_health reports 3 migrations" contains "$H" '"migrations": 3'
check "messages survived the upgrade (and have thread_id)" \
  contains "$(curl -sf "http://127.0.0.1:$PORT/api/messages")" '"thread_id": null'
"$APP/current/sampledctl" stop "$APP" >/dev/null
check "the DB is unchanged by serving 2.0.0" [ "$(sha256sum <"$APP/data/sample.db")" = "$SUM_MIGRATED" ]

step "roll back to 1.2.3: restore the backup (Flipt: downgrade = restore)"
cp "$TMP/backup/sample.db" "$APP/data/sample.db"
cp "$TMP/backup/config.json" "$APP/config/config.json"
ln -sfn releases/1.2.3 "$APP/current"
run st timeout 30 "$APP/current/sampledctl" start "$APP"
H=$(health)
check "1.2.3 is back: $H" contains "$H" '"version": "1.2.3"'
"$APP/current/sampledctl" stop "$APP" >/dev/null
check "restored DB is byte-identical to the backup" cmp -s "$APP/data/sample.db" "$TMP/backup/sample.db"

step "a partly applied migration: thread_id already exists"
D=$TMP/partial.db
python3 "$REL/1.3.0/sampled.py" migrate --db "$D" >/dev/null
sqlite3 "$D" "ALTER TABLE messages ADD COLUMN thread_id INTEGER"
run m python3 "$REL/2.0.0/sampled.py" migrate --db "$D"
show "$m_err"
check "2.0.0 migrate exits 1" [ "$m_rc" = 1 ]
check "... names the failed migration" contains "$m_err" "[ERROR] Migration failed: 003_threads.sql"
check "... gives the sqlite reason" contains "$m_err" "[ERROR] Reason: duplicate column name: thread_id"
check "... leaves 003 unrecorded" [ -z "$(sqlite3 "$D" "SELECT version FROM migrations WHERE version LIKE '003%'")" ]
check "... and rolled back the whole migration (no threads table)" \
  [ -z "$(sqlite3 "$D" "SELECT name FROM sqlite_master WHERE name = 'threads'")" ]
sqlite3 "$D" "ALTER TABLE messages DROP COLUMN thread_id"  # the seed's "manually fix schema and rerun"
run m python3 "$REL/2.0.0/sampled.py" migrate --db "$D"
check "after fixing the schema, migrate succeeds: $(last_line "$m_out")" [ "$m_rc" = 0 ]

step "an invalid config makes serve fail fast (exit 2)"
run sv timeout 10 python3 "$REL/2.0.0/sampled.py" serve --config "$TMP/backup/config.json" --db "$D"
show "$sv_err"
check "serve exits 2" [ "$sv_rc" = 2 ]
check "... naming the violation" contains "$sv_err" '$.auth: missing required property "sudo_mode_secret"'

echo
if [ "$FAILED" = 0 ]; then echo "ALL CHECKS PASSED"; else echo "SOME CHECKS FAILED"; fi
exit "$FAILED"
