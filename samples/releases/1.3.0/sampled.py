#!/usr/bin/env python3
"""sampled: the demo chat service that runbook's sample runbooks install, upgrade and roll back.

Modelled on two upgrade guides: a chat server (SQLite + `migrations` table, JSON config checked against
a JSON Schema, `/_health`, a breaking config change in 2.0.0) and Flipt (the binary carries its
migrations, you run the NEW version's `migrate` first, and start-up fails fast when some are missing).
One file per release, Python 3.11 stdlib only (the test hosts are minimal Debian). Releases differ only
in VERSION, MIGRATIONS, CONFIG_NOTES and describe_config().
"""
import argparse
import json
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = "1.3.0"
HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "config.schema.json"  # shipped next to this file in the release directory

# (name, sql) in apply order. The name is what the `migrations` table records. Like Flipt, every
# release carries all migrations up to itself, and they stay compatible with older servers.
MIGRATIONS = [
    ("001_init.sql", """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE messages (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT NOT NULL, created_at TEXT);
    """),
    ("002_add_user_badges.sql", """
        CREATE TABLE user_badges (user_id INTEGER NOT NULL, badge TEXT NOT NULL, awarded_at TEXT,
                                  PRIMARY KEY (user_id, badge));
    """),
]

# Hints appended to "unexpected property" violations: the release notes, where an operator sees them.
CONFIG_NOTES = {  # e.g. after a rollback that kept the newer config
    "$.services.queue.storage_backend": "a 2.0.0 setting: this config is for a newer release",
    "$.services.queue.filesystem": "a 2.0.0 setting: this config is for a newer release",
    "$.auth.sudo_mode_secret": "a 2.0.0 setting: this config is for a newer release",
    "$.auth.connection_initiation_secret": "a 2.0.0 setting: this config is for a newer release",
}

DEFAULT_MIGRATION_TIMEOUT_MS = 60000


def log(level, msg, stream=sys.stdout):
    print(f"[{level}] {msg}", file=stream, flush=True)


# --- config: load + a small JSON Schema (draft 2020-12) subset validator -----------------------------

SCHEMA_ANNOTATIONS = {"$schema", "$id", "title", "description", "default", "examples", "$comment"}
SCHEMA_KEYWORDS = {"type", "required", "properties", "additionalProperties", "enum", "minimum", "maximum",
                   "minLength", "pattern", "if", "then"}


def json_type(v):
    if isinstance(v, bool):  # bool is a subclass of int in Python; JSON keeps them apart
        return "boolean"
    if isinstance(v, int):
        return "integer"
    return {float: "number", str: "string", dict: "object", list: "array", type(None): "null"}[type(v)]


def validate(inst, schema, path="$"):
    """Returns a list of '$.path: message' strings, one per violation."""
    unknown = set(schema) - SCHEMA_KEYWORDS - SCHEMA_ANNOTATIONS
    if unknown:  # refuse rather than silently ignore a rule the schema author meant to enforce
        raise ValueError(f"config.schema.json uses unsupported keywords at {path}: {sorted(unknown)}")
    want = schema.get("type")
    if want:
        got = json_type(inst)
        if not (got == want or (want == "number" and got == "integer")):
            return [f"{path}: expected {want}, got {got}"]  # the other keywords make no sense then
    errors = []
    if "enum" in schema and inst not in schema["enum"]:
        errors.append(f"{path}: {json.dumps(inst)} is not one of {json.dumps(schema['enum'])}")
    if isinstance(inst, (int, float)) and not isinstance(inst, bool):
        if "minimum" in schema and inst < schema["minimum"]:
            errors.append(f"{path}: {inst} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and inst > schema["maximum"]:
            errors.append(f"{path}: {inst} is greater than the maximum {schema['maximum']}")
    if isinstance(inst, str):
        if len(inst) < schema.get("minLength", 0):
            errors.append(f"{path}: must be at least {schema['minLength']} characters long")
        if "pattern" in schema and not re.search(schema["pattern"], inst):
            errors.append(f"{path}: {json.dumps(inst)} does not match the pattern {schema['pattern']}")
    if isinstance(inst, dict):
        for name in schema.get("required", []):
            if name not in inst:
                errors.append(f'{path}: missing required property "{name}"')
        props, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        for name, value in inst.items():
            if name in props:
                errors += validate(value, props[name], f"{path}.{name}")
            elif extra is False:
                note = CONFIG_NOTES.get(f"{path}.{name}")
                errors.append(f'{path}: unexpected property "{name}"' + (f" ({note})" if note else ""))
            elif isinstance(extra, dict):
                errors += validate(value, extra, f"{path}.{name}")
    if "if" in schema and not validate(inst, schema["if"], path):
        errors += validate(inst, schema.get("then", {}), path)
    return errors


def load_config(config_path):
    """Returns (config or None, violations)."""
    try:
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    except OSError as e:
        return None, [f"$: cannot read config {config_path}: {e.strerror}"]
    except json.JSONDecodeError as e:
        return None, [f"$: config {config_path} is not valid JSON: {e}"]
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return config, validate(config, schema)


def describe_config(config):
    """The release-specific reading of a valid config (what the service would set up)."""
    telemetry = config.get("telemetry", {})  # optional since 1.3.0, off by default
    return (f"queue data_dir {config['services']['queue']['data_dir']}, "
            f"telemetry {'on -> ' + telemetry.get('otlp_endpoint', '') if telemetry.get('enabled') else 'off'}")


# --- database -----------------------------------------------------------------------------------------

def split_sql(script):
    # One statement per execute(): executescript() would COMMIT and break the per-migration transaction.
    # A plain split is enough because the embedded SQL has no ';' inside literals.
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def recorded_migrations(conn):
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='migrations'").fetchone()
    if not has_table:
        return set()
    return {row[0] for row in conn.execute("SELECT version FROM migrations")}


def is_recorded(name, recorded):
    # The seed's manual fix inserts '003_schema_change' without '.sql'; accept either spelling.
    return name in recorded or name.removesuffix(".sql") in recorded


def open_read_only(db_path):
    """mode=ro: the server can never write, so a running service leaves the DB file byte-stable."""
    return sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True)


def missing_migrations(db_path):
    if not Path(db_path).is_file():
        return [name for name, _ in MIGRATIONS]
    with closing(open_read_only(db_path)) as conn:
        done = recorded_migrations(conn)
    return [name for name, _ in MIGRATIONS if not is_recorded(name, done)]


def cmd_migrate(args):
    timeout_ms = args.timeout_ms or DEFAULT_MIGRATION_TIMEOUT_MS
    try:
        # isolation_level=None: no implicit transactions; we BEGIN/COMMIT ourselves so that DDL is
        # inside the transaction too. Default rollback journal (no WAL): a stopped DB is one file.
        conn = sqlite3.connect(args.db, timeout=timeout_ms / 1000, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = recorded_migrations(conn)
    except sqlite3.Error as e:
        log("ERROR", f"Cannot open database {args.db}: {e}", sys.stderr)
        return 1
    log("INFO", f"Running database migrations (sampled {VERSION}, {args.db})...")
    applied = skipped = 0
    for name, sql in MIGRATIONS:
        if is_recorded(name, done):
            skipped += 1
            continue
        deadline = time.monotonic() + timeout_ms / 1000
        # Aborts a statement that runs past the deadline (the seed's "migration hangs or times out").
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10000)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in split_sql(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO migrations (version, applied_at) VALUES (?, datetime('now'))", (name,))
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")  # leaves this migration unapplied and unrecorded
            reason = f"timed out after {timeout_ms} ms (raise --timeout-ms)" if "interrupt" in str(e) else str(e)
            log("ERROR", f"Migration failed: {name}", sys.stderr)
            log("ERROR", f"Reason: {reason}", sys.stderr)
            return 1
        applied += 1
        log("INFO", f"Applied migration: {name}")
    known = {n for n, _ in MIGRATIONS} | {n.removesuffix(".sql") for n, _ in MIGRATIONS}
    newer = sorted(done - known)
    if newer:  # e.g. an old release run against a DB already migrated by a newer one
        log("WARN", f"Database records migrations unknown to {VERSION}: {', '.join(newer)}")
    log("INFO", f"Migrations complete ({applied} applied, {skipped} skipped)")
    conn.close()
    return 0


def cmd_seed(args):
    try:
        with closing(sqlite3.connect(args.db, isolation_level=None)) as conn:
            if conn.execute("SELECT count(*) FROM users").fetchone()[0]:
                log("INFO", "Database already has users; nothing seeded")
                return 0
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)", [(1, "alice"), (2, "bob"), (3, "carol")])
            conn.executemany(
                "INSERT INTO messages (user_id, body, created_at) VALUES (?, ?, datetime('now'))",
                [(1, "hello from alice"), (2, "hi alice"), (3, "is the upgrade done yet?"), (1, "not yet")])
            conn.execute("COMMIT")
    except sqlite3.Error as e:
        log("ERROR", f"Cannot seed {args.db}: {e} (run 'sampled.py migrate --db {args.db}' first)", sys.stderr)
        return 1
    log("INFO", "Seeded 3 users and 4 messages")
    return 0


# --- HTTP ---------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    db_path = None  # set by cmd_serve
    server_version = f"sampled/{VERSION}"

    def do_GET(self):
        route = self.path.split("?", 1)[0]
        try:
            with closing(open_read_only(self.db_path)) as conn:  # one short read-only connection per request
                if route == "/_health":
                    count = conn.execute("SELECT count(*) FROM migrations").fetchone()[0]
                    return self.reply(200, {"status": "ok", "version": VERSION, "migrations": count})
                if route == "/api/messages":
                    conn.row_factory = sqlite3.Row
                    rows = conn.execute("SELECT m.id, m.user_id, u.name AS user, m.body, m.created_at "
                                        "FROM messages m LEFT JOIN users u ON u.id = m.user_id ORDER BY m.id")
                    return self.reply(200, [dict(r) for r in rows])
        except sqlite3.Error as e:
            return self.reply(503, {"status": "error", "version": VERSION, "error": str(e)})
        self.reply(404, {"error": "not found", "path": route})

    def reply(self, code, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(code)
        for name, value in (("Content-Type", "application/json"), ("Content-Length", str(len(data)))):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        log("INFO", f"{self.address_string()} {fmt % args}")


def cmd_serve(args):
    config, problems = load_config(args.config)
    if not problems:
        log("INFO", f"sampled {VERSION}: config {args.config} OK; {describe_config(config)}")
    db_path = args.db or (None if problems else config["database"]["path"])  # the schema requires the path
    problems = [f"invalid config {args.config}: {p}" for p in problems]
    if db_path:  # report config and migration problems together, so one failed start shows everything
        try:
            missing = missing_migrations(db_path)
        except sqlite3.Error as e:
            missing, problems = [], problems + [f"cannot read database {db_path}: {e}"]
        if missing:  # Flipt-style fail fast: never serve on a schema older than this release expects
            problems.append(f"database is missing migrations: {', '.join(missing)}"
                            f" — run 'sampled.py migrate --db {db_path}' with this release first")
    if problems:
        for p in problems:
            log("FATAL", p, sys.stderr)
        return 2
    host, port = config["server"].get("host", "127.0.0.1"), config["server"]["port"]
    Handler.db_path = db_path
    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as e:
        log("FATAL", f"cannot listen on {host}:{port}: {e.strerror}", sys.stderr)
        return 2

    def on_signal(signum, _frame):
        log("INFO", f"received {signal.Signals(signum).name}, shutting down")
        # shutdown() waits for serve_forever() to return, so it must run outside the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log("INFO", f"sampled {VERSION} serving http://{host}:{port} (db {db_path}, pid {os.getpid()})")
    server.serve_forever()
    server.server_close()
    log("INFO", "stopped")
    return 0


def cmd_check_config(args):
    _, problems = load_config(args.config)
    print("\n".join(problems) if problems else f"config OK for {VERSION}")
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sampled.py", description=f"sampled {VERSION} demo chat service")
    parser.add_argument("-v", "--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply this release's pending migrations")
    p.set_defaults(func=cmd_migrate)
    p.add_argument("--db", required=True)
    p.add_argument("--timeout-ms", type=int, help=f"per-migration limit (default {DEFAULT_MIGRATION_TIMEOUT_MS})")
    sub.add_parser("seed", help="insert demo users and messages").set_defaults(func=cmd_seed)
    sub.choices["seed"].add_argument("--db", required=True)
    p = sub.add_parser("serve", help="serve HTTP (fails fast on bad config or missing migrations)")
    p.set_defaults(func=cmd_serve)
    p.add_argument("--config", required=True)
    p.add_argument("--db", help="default: database.path from the config")
    p = sub.add_parser("check-config", help="validate a config against this release's schema")
    p.set_defaults(func=cmd_check_config)
    p.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
