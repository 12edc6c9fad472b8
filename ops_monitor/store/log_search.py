"""Log search on `operation_logs`: newest first, keyset-paginated, bounded in cost.

Every query walks an index backwards from its cursor: (source, level, ts, id) or (source, ts, id)
when sources are given, (level, ts, source) or (ts) otherwise, so a filtered page costs about
its own size whatever the table holds. A text search (`q`) cannot use an index: it examines at
most `TEXT_SCAN_BUDGET` records per page, newest first, and when that bound stops it early the
page says how far it got (`searched_to`) and its cursor continues from there.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, select, tuple_

from ops_monitor.store.logs import from_micros, to_micros
from ops_monitor.store.schema import operation_logs
from ops_monitor.views.log_page import LogEntry, LogPage
from ops_monitor.views.log_query import Cursor, LogQuery

TEXT_SCAN_BUDGET = 100_000


def _conditions(query: LogQuery) -> list[ColumnElement[bool]]:
    c = operation_logs.c
    where: list[ColumnElement[bool]] = []
    if query.sources:
        where.append(c.source.in_(query.sources))
    if query.levels:
        where.append(c.level.in_(query.levels))
    if query.since is not None:
        where.append(c.ts >= to_micros(query.since))
    if query.until is not None:
        where.append(c.ts <= to_micros(query.until))
    if query.cursor is not None:
        where.append(tuple_(c.ts, c.id) < tuple_(query.cursor.ts_us, query.cursor.record_id))
    return where


def _newest_first(statement: Select[Any]) -> Select[Any]:
    c = operation_logs.c
    return statement.order_by(c.ts.desc(), c.id.desc())


def search(connection: Connection, query: LogQuery, budget: int = TEXT_SCAN_BUDGET) -> LogPage:
    """One page of records matching `query`, newest first; a text search examines at most
    `budget` records."""
    c = operation_logs.c
    where = _conditions(query)
    if query.text is None:
        statement = _newest_first(select(operation_logs).where(*where)).limit(query.limit + 1)
        rows = list(connection.execute(statement))
        return _page(rows, query.limit)
    window = _newest_first(select(operation_logs).where(*where)).limit(budget)
    examined = window.subquery()
    statement = (
        select(examined)
        .where(examined.c.message.icontains(query.text, autoescape=True))
        .order_by(examined.c.ts.desc(), examined.c.id.desc())
        .limit(query.limit + 1)
    )
    rows = list(connection.execute(statement))
    if len(rows) > query.limit:
        return _page(rows, query.limit)
    boundary = connection.execute(
        _newest_first(select(c.ts, c.id).where(*where)).offset(budget - 1).limit(1)
    ).first()
    page = _page(rows, query.limit)
    if boundary is None:  # everything that matches the filters was examined: the end
        return page
    last = Cursor(int(boundary[0]), int(boundary[1]))
    return page.model_copy(
        update={"next_cursor": last.encode(), "searched_to": from_micros(last.ts_us)}
    )


def _page(rows: list[Row[Any]], limit: int) -> LogPage:
    entries = [entry(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = None
    if more:
        last = rows[limit - 1]
        next_cursor = Cursor(int(last.ts), int(last.id)).encode()
    return LogPage(records=entries, next_cursor=next_cursor)


def after(connection: Connection, after_id: int, query: LogQuery) -> list[LogEntry]:
    """Records stored after id `after_id` that match `query` (oldest first): a live tail."""
    c = operation_logs.c
    where = [c.id > after_id, *_conditions(query)]
    if query.text is not None:
        where.append(c.message.icontains(query.text, autoescape=True))
    statement = select(operation_logs).where(*where).order_by(c.id).limit(query.limit)
    return [entry(row) for row in connection.execute(statement)]


def entry(row: Row[Any]) -> LogEntry:
    attributes: dict[str, Any] = json.loads(row.attributes) if row.attributes else {}
    if row.outcome is not None:
        attributes["outcome"] = row.outcome
    if row.duration_ms is not None:
        attributes["duration_ms"] = row.duration_ms
    return LogEntry(
        id=int(row.id),
        timestamp=from_micros(int(row.ts)),
        source=row.source,
        level=row.level,
        message=row.message,
        attributes=attributes,
    )
