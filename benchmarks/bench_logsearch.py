"""Log search (`GET /api/ops/logs`, `ops-monitor logs`) over 1,000,000 stored records on SQLite.

Times each query shape the console and the CLI send, through the store's search function on one
connection (what the route runs, without HTTP), as the median of repeated runs. The reference
is the same queries on the same file without the log-search indexes (the schema before
migration 3), run in the same process right after. Prints figures; asserts nothing. Usage:

    python benchmarks/bench_logsearch.py                 # 1,000,000 records over 7 days
    python benchmarks/bench_logsearch.py --records 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_monitor import SOURCES, bulk_load
from figures import record
from sqlalchemy import text

from ops_monitor.store import Store
from ops_monitor.store.log_search import search
from ops_monitor.store.migrations import LOG_SEARCH_INDEXES
from ops_monitor.views.log_query import LogQuery

SPAN = timedelta(days=7)


def queries(end: datetime) -> dict[str, Callable[[], LogQuery]]:
    hour = end - timedelta(hours=30)
    return {
        "source+level+1h window": lambda: LogQuery.parse(
            source=SOURCES[3],
            level="error",
            since=(hour - timedelta(hours=1)).isoformat(),
            until=hour.isoformat(),
        ),
        "source+level+24h window (info, 100 of ~7k)": lambda: LogQuery.parse(
            source=SOURCES[3],
            level="info",
            since=(hour - timedelta(hours=24)).isoformat(),
            until=hour.isoformat(),
        ),
        "source, newest 100": lambda: LogQuery.parse(source=SOURCES[5]),
        "level=error, newest 100": lambda: LogQuery.parse(level="error"),
        "level=error+6h window": lambda: LogQuery.parse(
            level="error", since=(hour - timedelta(hours=6)).isoformat(), until=hour.isoformat()
        ),
        "no filter, newest 100": lambda: LogQuery.parse(),
        "text 'declined' in a source": lambda: LogQuery.parse(q="declined", source=SOURCES[7]),
        "text 'timeout after 1' anywhere": lambda: LogQuery.parse(q="timeout after 1"),
        "text that never matches (cost bound)": lambda: LogQuery.parse(q="no-such-text"),
    }


def time_query(store: Store, make: Callable[[], LogQuery], repeat: int) -> tuple[float, float, int]:
    """Median milliseconds for the first page and for page 5 (following cursors), and the
    first page's size."""
    firsts, fifths = [], []
    size = 0
    with store.read() as connection:
        for _ in range(repeat):
            started = time.perf_counter()
            page = search(connection, make())
            firsts.append((time.perf_counter() - started) * 1000)
            size = len(page.records)
            cursor = page.next_cursor
            started = time.perf_counter()
            for _ in range(4):
                if cursor is None:
                    break
                base = make()
                page = search(connection, _with_cursor(base, cursor))
                cursor = page.next_cursor
            fifths.append((time.perf_counter() - started) * 1000 / 4)
    return statistics.median(firsts), statistics.median(fifths), size


def _with_cursor(query: LogQuery, cursor: str) -> LogQuery:
    from dataclasses import replace

    from ops_monitor.views.log_query import Cursor

    return replace(query, cursor=Cursor.decode(cursor))


def run_all(store: Store, end: datetime, repeat: int) -> dict[str, tuple[float, float, int]]:
    return {name: time_query(store, make, repeat) for name, make in queries(end).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    end = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-logsearch-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ops.db'}"
        started = time.perf_counter()
        bulk_load(url, args.records, end - SPAN, seed=3, span=SPAN)
        load_s = time.perf_counter() - started
        store = Store(url)
        with store.write() as connection:
            connection.execute(text("ANALYZE"))
        indexed = run_all(store, end, args.repeat)
        with store.write() as connection:
            for name in LOG_SEARCH_INDEXES:
                connection.execute(text(f"DROP INDEX {name}"))
            connection.execute(text("ANALYZE"))
        reference = run_all(store, end, max(1, args.repeat // 2))
        store.close()
    print(f"log search over {args.records:,} records on SQLite (set-up {load_s:.1f} s)")
    print(f"{'query':<44} {'page 1':>9} {'page 2-5':>9} {'rows':>5} {'no index':>10}")
    figures: dict[str, object] = {"records": args.records, "repeat": args.repeat}
    for name, (first, later, size) in indexed.items():
        ref_first = reference[name][0]
        print(f"{name:<44} {first:>7.1f}ms {later:>7.1f}ms {size:>5} {ref_first:>8.1f}ms")
        figures[name] = {
            "page1_ms": round(first, 2),
            "later_pages_ms": round(later, 2),
            "rows": size,
            "without_indexes_ms": round(ref_first, 2),
        }
    record("logsearch", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
