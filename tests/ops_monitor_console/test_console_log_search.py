"""Log search: `GET /api/ops/logs` on a real server and store (SQLite and PostgreSQL), the store's
cost bound, the indexes, and `ops-monitor logs`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from ops_monitor.cli import main
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store.log_search import search
from ops_monitor.store.migrations import LOG_SEARCH_INDEXES
from ops_monitor.views.log_query import Cursor, LogQuery, QueryError, parse_when

from .served import ServedMonitor, served_monitor

NOW = datetime.now(UTC).replace(microsecond=0)


def record(
    i: int,
    *,
    source: str = "checkout",
    level: str = "info",
    message: str = "",
    now: datetime = NOW,
) -> dict[str, Any]:
    return {
        "timestamp": (now - timedelta(minutes=100 - i)).isoformat(),
        "source": source,
        "level": level,
        "message": message or f"GET /api/items/{i} 200",
        "attributes": {"request_id": f"r{i}", "duration_ms": 12},
    }


def get(monitor: ServedMonitor, **params: Any) -> httpx.Response:
    return httpx.get(monitor.url + "/api/ops/logs", params=params)


def test_pages_walk_every_match_newest_first_exactly_once(db_url: str) -> None:
    with served_monitor(db_url) as monitor:
        # ten records share one timestamp: the cursor must still split them correctly
        batch = [record(i) for i in range(50)] + [
            record(60) | {"message": f"same {n}"} for n in range(10)
        ]
        monitor.push(batch)
        seen: list[int] = []
        cursor: str | None = None
        while True:
            page = get(monitor, limit=7, **({"cursor": cursor} if cursor else {})).json()
            seen += [r["id"] for r in page["records"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    assert len(seen) == len(set(seen)) == 60
    assert seen == sorted(seen, reverse=True)  # ids rise with time here: newest first


def test_filters_combine_source_level_and_time_window(db_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # `since=15m` counts back from the real now
    with served_monitor(db_url) as monitor:
        monitor.push(
            [
                record(
                    i,
                    level="error" if i % 2 else "info",
                    source="api" if i % 3 else "cron",
                    now=now,
                )
                for i in range(90)
            ]
        )
        window = {
            "since": (now - timedelta(minutes=60)).isoformat(),
            "until": (now - timedelta(minutes=30)).isoformat(),
        }
        body = get(monitor, source="api", level="ERROR", **window).json()
        recent = get(monitor, source="api,cron", since="15m").json()
        backwards = get(monitor, since="1h", until="2h").json()  # an empty window

    minutes = [100 - i for i in range(90) if i % 2 and i % 3 and 30 <= 100 - i <= 60]
    assert [r["message"] for r in body["records"]] == [
        f"GET /api/items/{100 - m} 200" for m in sorted(minutes)
    ]
    assert all(r["source"] == "api" and r["level"] == "error" for r in body["records"])
    assert backwards == {"records": [], "next_cursor": None, "searched_to": None}
    assert body["records"][0]["attributes"] == {
        "request_id": f"r{100 - min(minutes)}",
        "duration_ms": 12,
    }
    assert {r["message"] for r in recent["records"]} == {
        f"GET /api/items/{i} 200" for i in range(86, 90)
    }


def test_text_search_is_case_insensitive_and_literal(db_url: str) -> None:
    with served_monitor(db_url) as monitor:
        monitor.push(
            [
                record(1, message="Payment DECLINED for order 7"),
                record(2, message="50% of quota used"),
                record(3, message="5 of quota used"),
                record(4, message="under_score here"),
                record(5, message="underXscore here"),
            ]
        )
        declined = get(monitor, q="declined").json()["records"]
        percent = get(monitor, q="50%").json()["records"]
        underscore = get(monitor, q="under_score").json()["records"]

    assert [r["message"] for r in declined] == ["Payment DECLINED for order 7"]
    assert [r["message"] for r in percent] == ["50% of quota used"]
    assert [r["message"] for r in underscore] == ["under_score here"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    tmp_path: Path, params: dict[str, Any], named: str
) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}") as monitor:
        answer = get(monitor, **params)

    assert answer.status_code == 400
    assert named in answer.json()["error"]


def test_a_text_search_stops_at_its_cost_bound_and_its_cursor_goes_on(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}")
    service = OpsMonitorService(store)
    from ops_monitor.models import LogRecord

    rows = [
        LogRecord(
            timestamp=NOW - timedelta(seconds=100 - i),
            source="s",
            level="info",
            message="needle" if i in (5, 50) else f"hay {i}",
        )
        for i in range(100)
    ]
    service.ingest(rows)
    with store.read() as connection:
        first = search(connection, LogQuery.parse(q="needle"), budget=30)
        found = [r.message for r in first.records]
        cursor = first.next_cursor
        pages = 1
        while cursor is not None:
            page = search(connection, LogQuery.parse(q="needle", cursor=cursor), budget=30)
            found += [r.message for r in page.records]
            cursor, pages = page.next_cursor, pages + 1
    store.close()

    assert first.records == []  # the newest 30: no needle
    assert first.searched_to is not None
    assert found == ["needle", "needle"]
    assert pages == 4  # 100 records, 30 examined per page


def test_migrations_create_the_log_search_indexes(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    with store.read() as connection:
        names = {index["name"] for index in inspect(connection).get_indexes("operation_logs")}
    store.close()

    assert set(LOG_SEARCH_INDEXES) <= names


def test_query_parsing_bounds_and_relative_times() -> None:
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)

    assert parse_when("90m", now, "since") == now - timedelta(minutes=90)
    assert parse_when("2026-01-10T10:00:00", now, "since") == datetime(2026, 1, 10, 10, tzinfo=UTC)
    assert parse_when("999999999d", now, "since").year == 1970
    assert Cursor.decode(Cursor(5, 7).encode()) == Cursor(5, 7)
    with pytest.raises(QueryError, match="limit"):
        LogQuery.parse(limit=1001)
    with pytest.raises(QueryError, match="q:"):
        LogQuery.parse(q="x" * 201)
    assert LogQuery.parse(level="ERROR, warning ,error").levels == ("error", "warning")


def test_logs_command_prints_matches_oldest_first_and_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    with served_monitor(db) as monitor:
        monitor.push([record(i, level="error" if i % 2 else "info") for i in range(10)])
    capsys.readouterr()

    assert main(["logs", "--db", db, "--level", "error", "--grep", "items/", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert main(["logs", "--db", db, "--since", "2h", "--json", "--limit", "2"]) == 0
    as_json = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["logs", "--db", db, "--since", "soon"]) == 2

    assert [line.split(": ", 1)[1].split(" {")[0] for line in lines] == [
        "GET /api/items/5 200",
        "GET /api/items/7 200",
        "GET /api/items/9 200",
    ]
    assert [r["message"] for r in as_json] == ["GET /api/items/8 200", "GET /api/items/9 200"]
