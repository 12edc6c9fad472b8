"""The monitor's tables, described once with SQLAlchemy Core for SQLite and PostgreSQL alike.

Log timestamps are integer microseconds since the epoch: they sort and compare as numbers on both
databases, cost nothing to convert on the hot ingest and scan paths, and never lose a time zone.
Scan and issue times are ordinary timezone-aware columns, because people read them.

`txid` on `operation_logs` and `ops_ingest_batches` is the PostgreSQL transaction that wrote the
row (migration 3 sets its default to `pg_current_xact_id()`): ids are handed out before commit,
so with concurrent writers a lower id can commit after a higher one, and only the transaction
tells a scan which rows are final. SQLite has one writer at a time, commits in id order, and
leaves the column at 0.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (fast, auto-incrementing).
Id = BigInteger().with_variant(Integer(), "sqlite")
Micros = BigInteger()
When = DateTime(timezone=True)

schema_migrations = Table(
    "ops_schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", When, nullable=False),
)

ingest_batches = Table(
    "ops_ingest_batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("received_at", When, nullable=False),
    Column("origin", String(100), nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("malformed", Integer, nullable=False),
    Column("samples", Text, nullable=False),  # JSON list of "line N: reason: text"
    Column("txid", BigInteger, nullable=False, server_default=text("0")),
)

operation_logs = Table(
    "operation_logs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ts", Micros, nullable=False),
    Column("source", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("outcome", String(40)),  # lifted from attributes: performance rules filter on them
    Column("duration_ms", Float),
    Column("attributes", Text),  # JSON object, or NULL when empty
    Column("txid", BigInteger, nullable=False, server_default=text("0")),
    Index("operation_logs_ts", "ts"),
    # Covering index for the error counts per window that spike detection reads over all stored
    # records: an incremental scan touches only error rows, never the table.
    Index("operation_logs_level_ts", "level", "ts", "source"),
    # Log search (store/log_search.py): newest first within a source, or a source and a level.
    Index("operation_logs_source_level_ts", "source", "level", "ts", "id"),
    Index("operation_logs_source_ts", "source", "ts", "id"),
)

scans = Table(
    "ops_scans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("trigger", String(100), nullable=False),
    Column("started_at", When, nullable=False),
    Column("finished_at", When),
    Column("logs_processed", BigInteger, nullable=False, default=0),
    Column("issues_found", Integer, nullable=False, default=0),
    Column("issues_filed", Integer, nullable=False, default=0),
    Column("issues_reopened", Integer, nullable=False, default=0),
    Column("malformed_lines", BigInteger, nullable=False, default=0),
    Column("malformed_samples", Text, nullable=False, default="[]"),
    Column("error", Text),
    Column("filters", Text, nullable=False, default="{}"),
    Column("cursor_from", BigInteger),
    Column("cursor_to", BigInteger),
    # At most one running scan, whatever process started it: a second insert fails.
    Index(
        "ops_scans_one_running",
        "status",
        unique=True,
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
    Index("ops_scans_scope_status", "scope", "status", "id"),
)

issues = Table(
    "ops_issues",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("rule", String(50), nullable=False),
    Column("title", Text, nullable=False),
    Column("category", String(20), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(200), nullable=False),
    Column("template_id", String(64), nullable=False),
    Column("template", Text, nullable=False),
    Column("occurrences", BigInteger, nullable=False),
    Column("first_seen", When, nullable=False),
    Column("last_seen", When, nullable=False),
    Column("samples", Text, nullable=False),  # JSON list of sample lines
    Column("evidence", Text, nullable=False),  # JSON object: counts by level, spike windows
    Column("resolution", Text),
    Column("resolved_at", When),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("last_scan_id", BigInteger),
    Index("ops_issues_status", "status", "severity"),
)

cursors = Table(
    "ops_cursors",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", When, nullable=False),
)

state = Table(
    "ops_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# ---------------------------------------------------------------- console and alerts
# An issue's state history: one row per change (new, regressed, escalating, resolved, ignored,
# reopened...). `seq` numbers an issue's events; the unique index makes recording an event
# idempotent across processes (the second writer of the same step fails and skips).
issue_events = Table(
    "ops_issue_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("issue_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", When, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurrences", BigInteger, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ops_issue_events_issue_seq", "issue_id", "seq", unique=True),
    Index("ops_issue_events_at", "at"),
)

# Issues hidden until N more occurrences or a date (Sentry's "ignore until").
issue_ignores = Table(
    "ops_issue_ignores",
    metadata,
    Column("issue_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", When, nullable=False),
    Column("until_at", When),
    Column("until_occurrences", BigInteger),
)

# Every alert delivery, sent or not. `dedupe_key` is unique: an event is delivered to a
# configured target once, whichever process noticed it first.
alert_deliveries = Table(
    "ops_alert_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("event", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("target", Text, nullable=False),  # the URL with any credentials masked
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # pending, delivered, failed, throttled
    Column("attempts", Integer, nullable=False, default=0),
    Column("response_status", Integer),
    Column("error", Text),
    Column("payload", Text, nullable=False),
    Index("ops_alert_deliveries_subject", "subject", "target", "id"),
)

# A push sent with an `Idempotency-Key`: its answer, kept so that a retry is answered the same
# without storing the batch twice; `body_sha256` tells a retry from a different batch.
ingest_keys = Table(
    "ops_ingest_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("received_at", When, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("response", Text, nullable=False),  # JSON: the push's summary
)

# How far `ops-monitor ingest` got in a file, written in the transaction of each batch it stored:
# the file (by device, inode and a hash of its first bytes) and where to read on.
ingest_checkpoints = Table(
    "ops_ingest_checkpoints",
    metadata,
    Column("path_sha256", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("identity", Text, nullable=False),  # JSON: device, inode, head_bytes, head_sha256
    Column("offset", BigInteger, nullable=False),  # a line start: read on from here
    Column("line", BigInteger, nullable=False),  # the number of the line at `offset`
    Column("skip", Integer, nullable=False),  # records of that line already stored
    Column("updated_at", When, nullable=False),
)
