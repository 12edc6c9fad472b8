"""Pushes over real HTTP into SQLite and PostgreSQL: stored whole or not at all, once per
`Idempotency-Key`, with bad timestamps and expired records counted, never failing the batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .live_monitor import RunningMonitor, records, running_monitor


@pytest.fixture
def monitor(db_url: str) -> Iterator[RunningMonitor]:
    with running_monitor(db_url) as running:
        yield running


def post(monitor: RunningMonitor, batch: Any, key: str | None = None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return httpx.post(f"{monitor.server.url}/api/ops/logs", json=batch, headers=headers)


def stored(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM operation_logs")) or 0)
    finally:
        engine.dispose()


def test_a_retried_push_with_its_key_is_stored_once_and_says_it_was_a_replay(
    monitor: RunningMonitor,
) -> None:
    batch = records("payment", 40)

    first = post(monitor, batch, key="push-0001")
    retry = post(monitor, batch, key="push-0001")
    other = post(monitor, batch, key="push-0002")

    assert (first.status_code, first.json()["accepted"], first.json()["replayed"]) == (
        200,
        40,
        False,
    )
    assert "Idempotent-Replayed" not in first.headers
    assert retry.json() == first.json() | {"replayed": True}
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.json()["replayed"] is False
    assert monitor.scan("full").logs_processed == 80
    assert stored(monitor.db_url) == 80


def test_concurrent_retries_of_one_key_store_the_batch_once(monitor: RunningMonitor) -> None:
    batch = records("payment", 500)

    with ThreadPoolExecutor(6) as pushers:
        answers = list(pushers.map(lambda _: post(monitor, batch, key="same-batch"), range(6)))

    assert {answer.status_code for answer in answers} == {200}
    assert sorted(answer.json()["replayed"] for answer in answers) == [False] + [True] * 5
    assert {answer.json()["accepted"] for answer in answers} == {500}
    assert stored(monitor.db_url) == 500


def test_a_key_reused_for_another_body_is_a_409_a_malformed_one_a_400_both_store_nothing(
    monitor: RunningMonitor,
) -> None:
    assert post(monitor, records("payment", 3), key="k-1").status_code == 200

    reused = post(monitor, records("refund", 3), key="k-1")
    spaced = post(monitor, records("refund", 3), key="has a space")
    too_long = post(monitor, records("refund", 3), key="k" * 201)

    assert reused.status_code == 409
    assert "Idempotency-Key 'k-1' was used before for a different body" in reused.json()["error"]
    assert spaced.status_code == too_long.status_code == 400
    assert "Idempotency-Key" in spaced.json()["error"]
    assert stored(monitor.db_url) == 3


def _poison(db_url: str) -> None:
    """Make the database refuse one record, as a full disk or a constraint would, part-way
    through a push's insert."""
    engine = create_engine(db_url)
    with engine.begin() as connection:
        if make_url(db_url).get_backend_name() == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON operation_logs "
                    "WHEN NEW.message = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.message = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON operation_logs "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )
    engine.dispose()


def test_a_push_the_database_fails_part_way_stores_none_of_it(monitor: RunningMonitor) -> None:
    monitor.push(records("payment", 1))  # the tables exist
    _poison(monitor.db_url)
    batch = records("payment", 6000, start=10)
    batch[-1] = batch[-1] | {"message": "poison"}

    failed = post(monitor, batch, key="poisoned")

    assert failed.status_code == 500
    assert stored(monitor.db_url) == 1
    assert post(monitor, batch[:-1], key="poisoned").json()["accepted"] == 5999
    assert stored(monitor.db_url) == 1 + 5999


def test_timestamps_with_no_utc_equivalent_are_malformed_records_not_a_failed_push(
    monitor: RunningMonitor,
) -> None:
    batch = [
        *records("payment", 2),
        {"timestamp": "9999-12-31T23:59:59-14:00", "message": "far future"},
        {"timestamp": "0001-01-01T00:00:00+00:01", "message": "far past"},
    ]

    response = post(monitor, batch)

    assert response.status_code == 200
    result = response.json()
    assert (result["accepted"], result["malformed"]) == (2, 2)
    assert [sample.split(": {")[0] for sample in result["malformed_samples"]] == [
        "line 3: timestamp: out of range in UTC: '9999-12-31T23:59:59-14:00'",
        "line 4: timestamp: out of range in UTC: '0001-01-01T00:00:00+00:01'",
    ]
    assert stored(monitor.db_url) == 2


def test_records_older_than_retention_are_counted_as_expired_and_not_stored(
    monitor: RunningMonitor,
) -> None:
    old = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    batch = [*records("payment", 3), *({"timestamp": old, "message": f"m{i}"} for i in range(5))]

    result = post(monitor, batch).json()

    assert (result["accepted"], result["expired"], result["malformed"]) == (3, 5, 0)
    assert stored(monitor.db_url) == 3
    body = httpx.post(
        f"{monitor.server.url}/api/ops/logs",
        content="\n".join(json.dumps(item) for item in batch[3:]),
        headers={"Content-Type": "application/x-ndjson"},
    ).json()
    assert (body["accepted"], body["expired"]) == (0, 5)
