#!/usr/bin/env python3
"""sampled: the demo chat service that runbook's sample runbooks install, upgrade and roll back.

Modelled on two upgrade guides: a chat server (SQLite + `migrations` table, JSON config checked against
a JSON Schema, `/_health`, a breaking config change in 2.0.0) and Flipt (the binary carries its
migrations, you run the NEW version's `migrate` first, and start-up fails fast when some are missing).
One file per release, Python 3.11 stdlib only (the test hosts are minimal Debian). Releases differ only
in VERSION, MIGRATIONS, MIGRATIONS_POSTGRES, CONFIG_NOTES, describe_config() and MESSAGES_QUERY.
The database is a SQLite file, or a postgresql:// URL that several instances share.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import sqlite3
import struct
import sys
import threading
import time
import urllib.parse
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

# The same migrations, same names, for PostgreSQL (`database.path` / `--db` a postgresql:// URL).
MIGRATIONS_POSTGRES = [
    ("001_init.sql", """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE messages (id SERIAL PRIMARY KEY, user_id INTEGER, body TEXT NOT NULL, created_at TEXT);
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
MESSAGES_QUERY = ("SELECT m.id, m.user_id, u.name AS user, m.body, m.created_at "
                  "FROM messages m LEFT JOIN users u ON u.id = m.user_id ORDER BY m.id")


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


# --- PostgreSQL: `database.path` / `--db` may be a postgresql:// URL, so that several instances share one
# database. A small client for protocol 3.0 (startup; trust, password, md5 and SCRAM-SHA-256 auth; the
# simple query protocol; text results) keeps the host requirement at "python3, stdlib only".

class PgError(Exception):
    def __init__(self, message, code=""):
        super().__init__(message)
        self.code = code  # SQLSTATE, e.g. 57014 = statement timeout


def is_postgres(db):
    return db.startswith(("postgresql://", "postgres://"))


def redact(db):
    """The database for logs and messages: a URL's password never reaches them."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", db) if is_postgres(db) else db


class PgConnection:
    INT_TYPES = {20, 21, 23}  # int8, int2, int4: returned as int like sqlite3 does

    def __init__(self, url, read_only=False, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        user = urllib.parse.unquote(u.username or os.environ.get("PGUSER", "postgres"))
        password = urllib.parse.unquote(u.password or os.environ.get("PGPASSWORD", ""))
        params = {"user": user, "database": urllib.parse.unquote(u.path.lstrip("/")) or user,
                  "client_encoding": "UTF8", "application_name": "sampled"}
        if read_only:  # the server only reads: the database refuses any write it might attempt
            params["default_transaction_read_only"] = "on"
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=timeout)
        self.buf = b""
        self.status = b"I"  # transaction status from the last ReadyForQuery: I idle, T in, E failed
        try:
            body = struct.pack("!i", 196608) + b"".join(
                k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
            self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
            self._authenticate(user, password)
            self._until_ready()
        except BaseException:
            self.sock.close()
            raise

    def close(self):
        try:
            self._send(b"X", b"")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def _exactly(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError("the server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read(self):
        kind, size = struct.unpack("!ci", self._exactly(5))
        data = self._exactly(size - 4)
        if kind == b"E":
            fields = dict((f[:1], f[1:].decode(errors="replace")) for f in data.split(b"\0") if f)
            raise PgError(fields.get(b"M", "unknown error"), fields.get(b"C", ""))
        return kind, data

    def _authenticate(self, user, password):
        while True:
            kind, data = self._read()
            if kind != b"R":
                raise PgError(f"unexpected message {kind!r} during authentication")
            code = struct.unpack("!i", data[:4])[0]
            if code == 0:
                return
            if code == 3:  # cleartext
                self._send(b"p", password.encode() + b"\0")
            elif code == 5:  # md5: md5(md5(password + user) + salt)
                inner = hashlib.md5((password + user).encode()).hexdigest().encode()
                self._send(b"p", b"md5" + hashlib.md5(inner + data[4:8]).hexdigest().encode() + b"\0")
            elif code == 10 and b"SCRAM-SHA-256" in data[4:].split(b"\0"):
                self._scram(password)
            else:
                raise PgError(f"unsupported authentication method {code}")

    def _scram(self, password):
        """RFC 5802/7677 without channel binding (SASLprep skipped: ASCII passwords)."""
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=,r=" + nonce
        first = ("n,," + first_bare).encode()
        self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
        kind, data = self._read()
        if kind != b"R" or struct.unpack("!i", data[:4])[0] != 11:
            raise PgError("unexpected SCRAM exchange")
        server_first = data[4:].decode()
        attrs = dict(part.split("=", 1) for part in server_first.split(","))
        if not attrs["r"].startswith(nonce):
            raise PgError("SCRAM: the server's nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = "c=biws,r=" + attrs["r"]
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        self._send(b"p", f"{without_proof},p={proof}".encode())
        kind, data = self._read()
        if kind != b"R" or struct.unpack("!i", data[:4])[0] != 12:
            raise PgError("unexpected SCRAM exchange")
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        expected = base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
        if dict(part.split("=", 1) for part in data[4:].decode().split(",")).get("v") != expected:
            raise PgError("SCRAM: the server's signature is wrong")

    def _until_ready(self):
        while True:
            kind, data = self._read()
            if kind == b"Z":
                self.status = data
                return

    def query(self, sql):
        """One simple-query message (may hold several statements): the rows of its last result set,
        as dicts by column name. An error raises PgError once the server is ready again."""
        self._send(b"Q", sql.encode() + b"\0")
        columns, rows, error = [], [], None
        while True:
            try:
                kind, data = self._read()
            except PgError as e:
                if not e.code:
                    raise
                error = e  # the server still sends ReadyForQuery after an ErrorResponse
                continue
            if kind == b"T":
                columns, rows, pos = [], [], 2
                for _ in range(struct.unpack("!h", data[:2])[0]):
                    end = data.index(b"\0", pos)
                    type_oid = struct.unpack("!i", data[end + 7:end + 11])[0]
                    columns.append((data[pos:end].decode(), type_oid in self.INT_TYPES))
                    pos = end + 19
            elif kind == b"D":
                row, pos = {}, 2
                for name, is_int in columns:
                    size = struct.unpack("!i", data[pos:pos + 4])[0]
                    pos += 4
                    value = None if size < 0 else data[pos:pos + size].decode()
                    pos += max(size, 0)
                    row[name] = int(value) if is_int and value is not None else value
                rows.append(row)
            elif kind == b"Z":
                self.status = data
                if error:
                    raise error
                return rows


class PgPool:
    """Idle read-only connections kept for the next request: a login per request (SCRAM's key derivation,
    a new server process) would cost more than the request itself."""

    def __init__(self, url, size=4):
        self.url, self.size, self.idle, self.lock = url, size, [], threading.Lock()

    def query(self, sql):
        """Runs sql on an idle connection, or a new one; a pooled one that fails (the server restarted,
        the database was restored) is dropped and the query tried once more on a new connection."""
        with self.lock:
            conn = self.idle.pop() if self.idle else None
        if conn is not None:
            try:
                return self._done(conn, conn.query(sql))
            except (OSError, PgError):
                conn.sock.close()
        conn = PgConnection(self.url, read_only=True)
        try:
            return self._done(conn, conn.query(sql))
        except BaseException:
            conn.sock.close()
            raise

    def _done(self, conn, rows):
        with self.lock:
            if conn.status == b"I" and len(self.idle) < self.size:
                self.idle.append(conn)
                return rows
        conn.close()
        return rows


def pg_literal(text):
    return "'" + text.replace("'", "''") + "'"  # standard_conforming_strings is on since PostgreSQL 9.1


PG_NOW = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"  # the text sqlite's datetime('now') gives


def pg_recorded_migrations(conn):
    if conn.query("SELECT to_regclass('migrations') IS NOT NULL AS present")[0]["present"] != "t":
        return set()
    return {row["version"] for row in conn.query("SELECT version FROM migrations")}


def pg_missing_migrations(url):
    with PgConnection(url, read_only=True) as conn:
        done = pg_recorded_migrations(conn)
    return [name for name, _ in MIGRATIONS_POSTGRES if not is_recorded(name, done)]


def pg_migrate(args, timeout_ms):
    try:
        conn = PgConnection(args.db, timeout=timeout_ms / 1000 + 30)
        # One migrate at a time: a second instance's migrate waits here, then finds the work done.
        conn.query("SET client_min_messages = warning; SELECT pg_advisory_lock(7274849)")
        conn.query("CREATE TABLE IF NOT EXISTS migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = pg_recorded_migrations(conn)
    except (OSError, PgError) as e:
        log("ERROR", f"Cannot open database {redact(args.db)}: {e}", sys.stderr)
        return 1
    log("INFO", f"Running database migrations (sampled {VERSION}, {redact(args.db)})...")
    applied = skipped = 0
    for name, sql in MIGRATIONS_POSTGRES:
        if is_recorded(name, done):
            skipped += 1
            continue
        try:  # PostgreSQL has transactional DDL: the migration and its record commit together or not at all
            conn.query(f"BEGIN; SET LOCAL statement_timeout = {int(timeout_ms)}")
            conn.query(sql)
            conn.query(f"INSERT INTO migrations (version, applied_at) VALUES ({pg_literal(name)}, {PG_NOW}); COMMIT")
        except (OSError, PgError) as e:
            if conn.status != b"I":
                conn.query("ROLLBACK")  # leaves this migration unapplied and unrecorded
            timed_out = isinstance(e, PgError) and e.code == "57014"
            log("ERROR", f"Migration failed: {name}", sys.stderr)
            log("ERROR", f"Reason: {f'timed out after {timeout_ms} ms (raise --timeout-ms)' if timed_out else e}",
                sys.stderr)
            conn.close()
            return 1
        applied += 1
        log("INFO", f"Applied migration: {name}")
    known = {n for n, _ in MIGRATIONS_POSTGRES} | {n.removesuffix(".sql") for n, _ in MIGRATIONS_POSTGRES}
    newer = sorted(done - known)
    if newer:
        log("WARN", f"Database records migrations unknown to {VERSION}: {', '.join(newer)}")
    log("INFO", f"Migrations complete ({applied} applied, {skipped} skipped)")
    conn.close()
    return 0


def pg_seed(args):
    try:
        with PgConnection(args.db) as conn:
            if conn.query("SELECT count(*) AS n FROM users")[0]["n"]:
                log("INFO", "Database already has users; nothing seeded")
                return 0
            conn.query("BEGIN; INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob'), (3, 'carol');"
                       " INSERT INTO messages (user_id, body, created_at) VALUES"
                       f" (1, 'hello from alice', {PG_NOW}), (2, 'hi alice', {PG_NOW}),"
                       f" (3, 'is the upgrade done yet?', {PG_NOW}), (1, 'not yet', {PG_NOW}); COMMIT")
    except (OSError, PgError) as e:
        log("ERROR", f"Cannot seed {redact(args.db)}: {e} (run 'sampled.py migrate --db URL' first)", sys.stderr)
        return 1
    log("INFO", "Seeded 3 users and 4 messages")
    return 0


def missing_migrations(db_path):
    if is_postgres(db_path):
        return pg_missing_migrations(db_path)
    if not Path(db_path).is_file():
        return [name for name, _ in MIGRATIONS]
    with closing(open_read_only(db_path)) as conn:
        done = recorded_migrations(conn)
    return [name for name, _ in MIGRATIONS if not is_recorded(name, done)]


def cmd_migrate(args):
    timeout_ms = args.timeout_ms or DEFAULT_MIGRATION_TIMEOUT_MS
    if is_postgres(args.db):
        return pg_migrate(args, timeout_ms)
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
    if is_postgres(args.db):
        return pg_seed(args)
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
    pg_pool = None  # idem, for a postgresql:// database
    server_version = f"sampled/{VERSION}"

    def do_GET(self):
        route = self.path.split("?", 1)[0]
        if is_postgres(self.db_path):
            return self.get_postgres(route)
        try:
            with closing(open_read_only(self.db_path)) as conn:  # one short read-only connection per request
                if route == "/_health":
                    count = conn.execute("SELECT count(*) FROM migrations").fetchone()[0]
                    return self.reply(200, {"status": "ok", "version": VERSION, "migrations": count})
                if route == "/api/messages":
                    conn.row_factory = sqlite3.Row
                    rows = conn.execute(MESSAGES_QUERY)
                    return self.reply(200, [dict(r) for r in rows])
        except sqlite3.Error as e:
            return self.reply(503, {"status": "error", "version": VERSION, "error": str(e)})
        self.reply(404, {"error": "not found", "path": route})

    def get_postgres(self, route):
        try:
            if route == "/_health":
                count = self.pg_pool.query("SELECT count(*) AS n FROM migrations")[0]["n"]
                return self.reply(200, {"status": "ok", "version": VERSION, "migrations": count})
            if route == "/api/messages":
                return self.reply(200, self.pg_pool.query(MESSAGES_QUERY))
        except (OSError, PgError) as e:
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
        except (sqlite3.Error, OSError, PgError) as e:
            missing, problems = [], problems + [f"cannot read database {redact(db_path)}: {e}"]
        if missing:  # Flipt-style fail fast: never serve on a schema older than this release expects
            problems.append(f"database is missing migrations: {', '.join(missing)}"
                            f" — run 'sampled.py migrate --db {redact(db_path)}' with this release first")
    if problems:
        for p in problems:
            log("FATAL", p, sys.stderr)
        return 2
    host, port = config["server"].get("host", "127.0.0.1"), config["server"]["port"]
    Handler.db_path = db_path
    Handler.pg_pool = PgPool(db_path) if is_postgres(db_path) else None
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
    log("INFO", f"sampled {VERSION} serving http://{host}:{port} (db {redact(db_path)}, pid {os.getpid()})")
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
