"""Queries on `operation_logs` and `ops_ingest_batches`: batched inserts, scan reads, retention."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    text,
)

from ops_monitor.models import LogRecord, ScanFilters
from ops_monitor.store.schema import ingest_batches, operation_logs

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
DURATION_KEYS = ("duration_ms", "durationMs", "wallTime", "duration")


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


# Column widths of `operation_logs` (schema.py). PostgreSQL enforces them and SQLite does not,
# so a longer value is cut here for both, ending in TRUNCATED so a reader sees it was cut.
SOURCE_CHARS = 200
LEVEL_CHARS = 20
OUTCOME_CHARS = 40
TRUNCATED = "\u2026"  # "…"
# NUL and lone surrogates (from `"\u0000"` or `"\ud800"` in JSON): PostgreSQL refuses NUL in
# text, and neither driver can encode a lone surrogate. Both become U+FFFD, as a decoder would.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class UnstorableRecord(ValueError):
    """A record that no normalisation can make storable; the text says which part and why."""


def storable(text: str, limit: int | None = None) -> str:
    """`text` as both backends store it identically: NUL and lone surrogates replaced, and cut
    to `limit` characters with a visible marker."""
    if text.isascii():  # the common case: only NUL can be wrong
        if "\x00" in text:
            text = text.replace("\x00", REPLACEMENT)
    elif _UNSTORABLE.search(text) is not None:
        text = _UNSTORABLE.sub(REPLACEMENT, text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + TRUNCATED
    return text


def _duration(attributes: dict[str, Any]) -> float | None:
    """The request duration in ms, when one is given as a finite number: NaN compares greater
    than any number on PostgreSQL and is stored as NULL by SQLite, so it is not a duration."""
    for key in DURATION_KEYS:
        value = attributes.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                duration = float(value)
            except OverflowError:  # an integer too large for a float
                return None
            return duration if math.isfinite(duration) else None
    return None


LogRow = tuple[int, str, str, str, str | None, float | None, str | None]
_LOG_COLUMNS = ("ts", "source", "level", "message", "outcome", "duration_ms", "attributes")


def row_of(record: LogRecord) -> LogRow:
    """The stored form of one record. `outcome` and the duration are lifted out of the
    attributes into their own columns (the rules filter on them in SQL); the rest stays JSON.
    Text is normalised (`storable`) so SQLite and PostgreSQL accept and keep the same values.
    Raises UnstorableRecord for attributes that cannot be written as JSON."""
    attributes = record.attributes
    ts = to_micros(record.timestamp)
    source, level, message = record.source, record.level, record.message
    if not (
        message.isascii()
        and source.isascii()
        and level.isascii()
        and len(source) <= SOURCE_CHARS
        and len(level) <= LEVEL_CHARS
        and "\x00" not in message
        and "\x00" not in source
        and "\x00" not in level
    ):  # the hot path of ingest: most records need nothing done, and this says so fastest
        source = storable(source, SOURCE_CHARS)
        level = storable(level, LEVEL_CHARS)
        message = storable(message)
    if not attributes:
        return (ts, source, level, message, None, None, None)
    outcome = attributes.get("outcome")
    outcome = storable(outcome, OUTCOME_CHARS) if isinstance(outcome, str) else None
    duration = _duration(attributes)
    rest = attributes
    if outcome is not None or duration is not None:  # lifted into their own columns
        rest = {k: v for k, v in attributes.items() if k != "outcome" and k not in DURATION_KEYS}
        if duration is None:  # a non-finite duration stays where it was, as given
            rest.update((k, attributes[k]) for k in DURATION_KEYS if k in attributes)
    try:
        # ensure_ascii (the default) writes NUL and lone surrogates as escapes: storable as is.
        encoded = json.dumps(rest, default=str) if rest else None
    except (RecursionError, ValueError, TypeError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise UnstorableRecord(f"attributes: cannot be stored as JSON ({reason})") from None
    return (ts, source, level, message, outcome, duration, encoded)


def insert_logs(connection: Connection, rows: Sequence[LogRow]) -> None:
    """A driver-level executemany: the hot path of ingest skips per-row SQLAlchemy processing."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(_insert_sql(marker), list(rows))


def _insert_sql(marker: str) -> str:
    columns = ", ".join(_LOG_COLUMNS)
    values = ", ".join([marker] * len(_LOG_COLUMNS))
    return f"INSERT INTO operation_logs ({columns}) VALUES ({values})"  # noqa: S608 - constants


def record_batch(
    connection: Connection, origin: str, accepted: int, malformed: int, samples: Sequence[str]
) -> None:
    connection.execute(
        ingest_batches.insert().values(
            received_at=datetime.now(UTC),
            origin=origin,
            accepted=accepted,
            malformed=malformed,
            samples=json.dumps(list(samples)),
        )
    )


def max_log_id(connection: Connection) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(operation_logs.c.id), 0))) or 0)


def max_batch_id(connection: Connection) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(ingest_batches.c.id), 0))) or 0)


# In-flight transactions that write `operation_logs` or `ops_ingest_batches` in this database: a
# writer locks the table (RowExclusiveLock) before its first insert gives it a transaction id,
# and holds both locks until it ends. Only their transaction ids can still appear in the tables;
# any other transaction of the cluster (another database, a long report) never holds a scan up.
_WRITERS_IN_FLIGHT = text(
    """
    SELECT least(
        pg_snapshot_xmax(CAST(:snapshot AS pg_snapshot))::text::bigint,
        min(xip::text::bigint)
    )
    FROM pg_snapshot_xip(CAST(:snapshot AS pg_snapshot)) AS xip
    WHERE xip::text::bigint % 4294967296 IN (
        SELECT own.transactionid::text::bigint
        FROM pg_locks AS own
        JOIN pg_locks AS writing ON writing.pid = own.pid
        WHERE own.locktype = 'transactionid' AND own.mode = 'ExclusiveLock' AND own.granted
          AND writing.locktype = 'relation' AND writing.mode = 'RowExclusiveLock'
          AND writing.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND writing.relation IN (
              CAST('operation_logs' AS regclass), CAST('ops_ingest_batches' AS regclass)
          )
    )
    """
)


def committed_horizon(connection: Connection) -> int | None:
    """On PostgreSQL, the highest transaction id below every writer still in flight: rows
    written by transactions up to it are final (committed or rolled back), so a scan reading up
    to it never passes a row that commits later. None on SQLite, whose single writer commits
    rows in id order.

    The snapshot is taken first and the writers are looked up after it: a writer that locks a
    table after the snapshot gets a transaction id above the snapshot's `xmax`, which the
    horizon never exceeds."""
    if connection.dialect.name != "postgresql":
        return None
    snapshot = connection.scalar(text("SELECT pg_current_snapshot()::text"))
    first_unfinished = connection.scalar(_WRITERS_IN_FLIGHT, {"snapshot": snapshot})
    return int(first_unfinished) - 1


def positions(connection: Connection) -> tuple[int, int]:
    """How far a scan may read `operation_logs` and `ops_ingest_batches` now: transaction ids on
    PostgreSQL (`committed_horizon`), the highest ids on SQLite. Read before the rows."""
    horizon = committed_horizon(connection)
    if horizon is not None:
        return horizon, horizon
    return max_log_id(connection), max_batch_id(connection)


def _position(table: Table, connection: Connection) -> Column[int]:
    return table.c.txid if connection.dialect.name == "postgresql" else table.c.id


@dataclass(frozen=True)
class LogRange:
    """The records one scan reads: positions in (after, up_to] (ids on SQLite, transaction ids
    on PostgreSQL: see `positions`), not older than `since_us`; `after` None reads from the
    first record."""

    after: int | None
    up_to: int
    since_us: int | None
    filters: ScanFilters
    position: Column[int] = operation_logs.c.id

    @classmethod
    def of(
        cls,
        connection: Connection,
        after: int | None,
        up_to: int,
        since_us: int | None,
        filters: ScanFilters,
    ) -> LogRange:
        return cls(after, up_to, since_us, filters, _position(operation_logs, connection))

    def conditions(self) -> list[ColumnElement[bool]]:
        c = operation_logs.c
        where: list[ColumnElement[bool]] = [self.position <= self.up_to]
        if self.after is not None:
            where.append(self.position > self.after)
        if self.since_us is not None:
            where.append(c.ts >= self.since_us)
        if self.filters.since is not None:
            where.append(c.ts >= to_micros(self.filters.since))
        if self.filters.until is not None:
            where.append(c.ts <= to_micros(self.filters.until))
        if self.filters.sources:
            where.append(c.source.in_(self.filters.sources))
        if self.filters.levels:
            where.append(c.level.in_([level.lower() for level in self.filters.levels]))
        return where


def count_logs(connection: Connection, span: LogRange) -> tuple[int, int | None, int | None]:
    """How many records the range holds, and their earliest and latest timestamps."""
    c = operation_logs.c
    row = connection.execute(
        select(func.count(), func.min(c.ts), func.max(c.ts)).where(*span.conditions())
    ).one()
    return int(row[0]), row[1], row[2]


def interesting_logs(
    connection: Connection,
    span: LogRange,
    error_levels: Iterable[str],
    outcomes: Iterable[str],
    slow_ms: float,
) -> Iterator[tuple[int, str, str, str, str | None, float | None]]:
    """Stream the records any rule could act on; the database drops the rest."""
    c = operation_logs.c
    query = (
        select(c.ts, c.source, c.level, c.message, c.outcome, c.duration_ms)
        .where(
            *span.conditions(),
            or_(
                c.level.in_(list(error_levels)),
                c.outcome.in_(list(outcomes)),
                c.duration_ms > slow_ms,
            ),
        )
        .order_by(c.id)
    )
    result = connection.execution_options(stream_results=True, yield_per=5000).execute(query)
    for row in result:
        yield row[0], row[1], row[2], row[3], row[4], row[5]


def error_counts(
    connection: Connection,
    first_window: int,
    last_window: int,
    width_us: int,
    error_levels: Iterable[str],
    sources: Sequence[str] | None,
) -> dict[tuple[str, int], int]:
    """Errors per (source, window) for windows first_window-1 .. last_window, over all stored
    records (not only this scan's), so incremental and full scans see the same windows."""
    c = operation_logs.c
    window = (c.ts // width_us).label("window")
    where: list[ColumnElement[bool]] = [
        c.level.in_(list(error_levels)),
        c.ts >= (first_window - 1) * width_us,
        c.ts < (last_window + 1) * width_us,
    ]
    if sources:
        where.append(c.source.in_(list(sources)))
    query = select(c.source, window, func.count()).where(and_(*where)).group_by(c.source, window)
    return {(row[0], int(row[1])): int(row[2]) for row in connection.execute(query)}


def sources_with_records(
    connection: Connection, wanted: Mapping[int, Collection[str]], width_us: int
) -> set[tuple[str, int]]:
    """Which of the wanted (source, window) pairs hold at least one record of any level: a
    window with records and no errors is a baseline a spike can be measured against, a window
    with no records at all is not. One query per window, over that window only."""
    c = operation_logs.c
    found: set[tuple[str, int]] = set()
    for window, sources in sorted(wanted.items()):
        query = (
            select(c.source)
            .distinct()
            .where(
                c.ts >= window * width_us,
                c.ts < (window + 1) * width_us,
                c.source.in_(sorted(sources)),
            )
        )
        found.update((source, window) for source in connection.scalars(query))
    return found


def malformed_since(
    connection: Connection,
    after_batch: int | None,
    up_to_batch: int,
    since: datetime | None,
    keep: int,
) -> tuple[int, list[str]]:
    """Malformed lines of the ingest batches in (after_batch, up_to_batch], positions as in
    `LogRange`."""
    b = ingest_batches.c
    position = _position(ingest_batches, connection)
    where: list[ColumnElement[bool]] = [position <= up_to_batch, b.malformed > 0]
    if after_batch is not None:
        where.append(position > after_batch)
    if since is not None:
        where.append(b.received_at >= since)
    total = 0
    samples: list[str] = []
    for count, sample_json in connection.execute(select(b.malformed, b.samples).where(*where)):
        total += int(count)
        if len(samples) < keep:
            samples.extend(json.loads(sample_json)[: keep - len(samples)])
    return total, samples


def purge_before(connection: Connection, cutoff_us: int) -> int:
    """Delete records older than the retention window; returns how many went."""
    result = connection.execute(delete(operation_logs).where(operation_logs.c.ts < cutoff_us))
    connection.execute(
        delete(ingest_batches).where(ingest_batches.c.received_at < from_micros(cutoff_us))
    )
    return int(result.rowcount or 0)
