"""`POST /api/ops/logs`: arrays and NDJSON, malformed lines counted, oversized bodies refused."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_monitor.api.log_batch import parse_body, to_record

from .conftest import MakeHarness, RouteHarness, app_with_double
from .live_server import live_server

GOOD = {
    "timestamp": "2026-01-01T02:00:00Z",
    "source": "checkout",
    "level": "ERROR",
    "message": "TimeoutError after 3000 ms",
    "attributes": {"route": "/pay"},
}


def ndjson(*lines: object) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)


def test_a_json_array_is_stored(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/logs", json=[GOOD, GOOD | {"level": "info"}])

    assert response.json() == {
        "accepted": 2,
        "malformed": 0,
        "malformed_samples": [],
        "expired": 0,
        "replayed": False,
    }
    first = routes.service.ingested[0]
    assert (first.source, first.level, first.attributes) == ("checkout", "error", {"route": "/pay"})
    assert first.timestamp == datetime(2026, 1, 1, 2, tzinfo=UTC)


def test_ndjson_malformed_lines_are_counted_and_sampled_not_fatal(routes: RouteHarness) -> None:
    body = ndjson(GOOD, b"{not json", {"message": "no time"}, [1, 2], GOOD, b"   ")

    response = routes.client.post(
        "/api/ops/logs", content=body, headers={"Content-Type": "application/x-ndjson"}
    )

    result = response.json()
    assert (response.status_code, result["accepted"], result["malformed"]) == (200, 2, 3)
    assert result["malformed_samples"] == [
        "line 2: not JSON (JSONDecodeError): {not json",
        'line 3: timestamp: missing: {"message": "no time"}',
        "line 4: not a JSON object: [1, 2]",
    ]
    assert ("ingest", (2, "push", 3)) in routes.service.calls


def test_a_json_body_that_is_not_an_array_is_a_400(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/logs", json=GOOD)

    assert response.status_code == 400
    assert "JSON array" in response.json()["error"]
    assert routes.service.ingested == []


def test_invalid_json_declared_as_json_is_a_400(routes: RouteHarness) -> None:
    response = routes.client.post(
        "/api/ops/logs", content=b"[{", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("body is not valid JSON")


def test_a_body_over_the_declared_limit_is_refused_before_reading(
    make_routes: MakeHarness,
) -> None:
    routes = make_routes(max_push_bytes=1000)

    response = routes.client.post("/api/ops/logs", json=[GOOD] * 20)

    assert response.status_code == 413
    assert response.json() == {"error": "request body exceeds the 1000-byte limit"}
    assert routes.service.ingested == []


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(tmp_path: Path) -> None:
    app, double = app_with_double(tmp_path, max_push_bytes=1000)
    line = ndjson(GOOD)
    with live_server(app) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"POST /api/ops/logs HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            for _ in range(1000 // len(line) + 2):  # just past the limit; the body never ends
                sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))

            answer = sock.recv(200)

    assert answer.startswith(b"HTTP/1.1 413")
    assert double.ingested == []


def test_an_empty_push_is_a_400_and_stores_nothing(routes: RouteHarness) -> None:
    response = routes.client.post(
        "/api/ops/logs", content=b"", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("body: empty")
    assert routes.service.ingested == []


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1767232800, datetime(2026, 1, 1, 2, tzinfo=UTC)),
        (1767232800000, datetime(2026, 1, 1, 2, tzinfo=UTC)),
        ("2026-01-01T02:00:00", datetime(2026, 1, 1, 2, tzinfo=UTC)),
        ("2026-01-01T03:00:00+01:00", datetime(2026, 1, 1, 2, tzinfo=UTC)),
    ],
)
def test_pushed_records_are_read_like_json_lines(timestamp: object, expected: datetime) -> None:
    record = to_record({"time": timestamp, "msg": "m", "severity": "WARN", "colo": "AMS"})

    assert (record.timestamp, record.message, record.level) == (expected, "m", "warning")
    assert (record.source, record.attributes) == ("http", {"colo": "AMS"})


def test_a_bad_record_is_counted_with_the_field_it_lacks() -> None:
    batch = parse_body(
        json.dumps(
            [{"timestamp": "soon", "message": "m"}, {"timestamp": 0, "message": 5}]
        ).encode(),
        "application/json",
    )

    assert batch.records == []
    assert [sample.split(":")[1].strip() for sample in batch.malformed.samples] == [
        "timestamp",
        "message",
    ]


def test_only_a_few_malformed_samples_are_kept() -> None:
    batch = parse_body(b"x\n" * 50, "application/x-ndjson; charset=utf-8")

    assert (batch.malformed.count, len(batch.malformed.samples)) == (50, 5)


@pytest.mark.parametrize(
    ("body", "accepted", "reason"),
    [
        (ndjson(GOOD) + b"1, 2\n", 1, "line 2: not JSON"),  # two values on one line
        (ndjson(GOOD) + b'{"message": "\xff"}\n', 1, "line 2: not JSON"),  # not UTF-8
        (ndjson(GOOD, {"timestamp": 0}), 1, "line 2: message: missing"),
    ],
)
def test_each_ndjson_line_is_judged_on_its_own(body: bytes, accepted: int, reason: str) -> None:
    batch = parse_body(body, "application/x-ndjson")

    assert len(batch.records) == accepted
    assert batch.malformed.samples[0].startswith(reason)
