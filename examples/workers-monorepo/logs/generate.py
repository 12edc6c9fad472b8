"""Writes the sample Workers logs in this folder; deterministic, so reruns give identical files.

    python3 generate.py                              # rewrites the committed files
    python3 generate.py --end now --out /tmp/logs    # the same two days, ending now (for demos:
                                                     # the monitor only scans its retention window)

orchestrator-tail.jsonl holds `wrangler tail orchestrator --format json` events, one per line
(as `wrangler tail --format json | jq -c .` prints them). apps.jsonl holds the structured JSON
lines the app workers write with console.log(JSON.stringify(...)).
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOURS = 48
COMMITTED_START = datetime(2024, 11, 18, 0, 0, tzinfo=UTC)
START = COMMITTED_START  # rebound by --end


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def request_event(rng: random.Random, moment: datetime) -> dict[str, object]:
    path = rng.choice(["/api/ops/issues", "/api/ops/scans", "/api/ops/scan", "/healthz"])
    method = "POST" if path == "/api/ops/scan" else "GET"
    outcome, status, exceptions, logs = "ok", 200, [], []
    cpu, wall = rng.randint(1, 12), rng.randint(5, 140)
    roll = rng.random()
    if path == "/api/ops/scan" and roll < 0.15:
        outcome, status, cpu, wall = "exceededCpu", 503, rng.randint(50, 60), rng.randint(2000, 9000)
    elif path != "/healthz" and roll < 0.22:
        status = 500
        table = rng.choice(["ops_scans", "ops_issues"])
        exceptions = [
            {
                "name": "Error",
                "message": f"D1_ERROR: no such column: {table}.resolved_at at offset {rng.randint(20, 90)}",
                "timestamp": millis(moment),
            }
        ]
    elif roll < 0.3:
        wall = rng.randint(1500, 6000)
        logs = [
            {
                "message": [f"slow query on {path}: {wall} ms for {rng.randint(200, 5000)} rows"],
                "level": "warn",
                "timestamp": millis(moment),
            }
        ]
    return {
        "outcome": outcome,
        "scriptName": "orchestrator",
        "diagnosticsChannelEvents": [],
        "exceptions": exceptions,
        "logs": logs,
        "eventTimestamp": millis(moment),
        "event": {
            "request": {
                "url": f"https://orchestrator.acme.workers.dev{path}",
                "method": method,
                "headers": {"user-agent": "acme-dashboard/1.4", "cf-ray": f"{rng.getrandbits(64):016x}"},
                "cf": {"colo": rng.choice(["AMS", "FRA", "LHR", "IAD"])},
            },
            "response": {"status": status},
        },
        "cpuTime": cpu,
        "wallTime": wall,
    }


def scheduled_event(rng: random.Random, moment: datetime, cron: str) -> dict[str, object]:
    logs: list[dict[str, object]] = []
    if cron == "0 */4 * * *":
        processed = rng.randint(40, 900)
        logs = [
            {"message": [json.dumps({"event": "scan.start", "scope": "incremental"})], "level": "log",
             "timestamp": millis(moment)},
            {"message": [json.dumps({"event": "scan.end", "scope": "incremental",
                                     "durationMs": rng.randint(300, 4000), "logsProcessed": processed})],
             "level": "log", "timestamp": millis(moment) + 900},
        ]
    # The daily "0 2 * * *" event fires but the handler's broken branch never starts a scan: no logs.
    return {
        "outcome": "ok",
        "scriptName": "orchestrator",
        "diagnosticsChannelEvents": [],
        "exceptions": [],
        "logs": logs,
        "eventTimestamp": millis(moment),
        "event": {"cron": cron, "scheduledTime": millis(moment)},
        "cpuTime": rng.randint(1, 4),
        "wallTime": rng.randint(300, 4200),
    }


def tail_events(rng: random.Random) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for hour in range(HOURS):
        base = START + timedelta(hours=hour)
        if hour % 24 == 2:
            events.append(scheduled_event(rng, base, "0 2 * * *"))
        if hour % 4 == 0:
            events.append(scheduled_event(rng, base, "0 */4 * * *"))
        for _ in range(rng.randint(2, 4)):
            events.append(request_event(rng, base + timedelta(seconds=rng.randint(1, 3599))))
    return sorted(events, key=lambda event: int(str(event["eventTimestamp"])))


APP_MESSAGES = [
    ("app-base", "info", "served /issues with {n} titles from cache"),
    ("app-base", "warning", "cache miss for issue-titles, fetching from monitor in {ms} ms"),
    ("factory-billing", "info", "issued {n} invoices"),
    ("factory-billing", "error", "D1_ERROR: database is locked while writing operation_logs (attempt {attempt})"),
    ("factory-reports", "info", "weekly digest sent with {n} issues"),
    ("specialist-notifier", "warning",
     "ORCHESTRATOR_OPS_MONITOR unavailable: fetch failed, retrying in {ms} ms"),
    ("specialist-notifier", "info", "posted summary of {n} open issues to chat"),
    ("specialist-triage", "error", "TypeError: Cannot read properties of undefined (reading 'category') in issue {id}"),
]


def app_lines(rng: random.Random) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for _ in range(220):
        source, level, template = rng.choice(APP_MESSAGES)
        moment = START + timedelta(seconds=rng.randint(0, HOURS * 3600 - 1))
        message = template.format(
            n=rng.randint(0, 120), ms=rng.choice([100, 200, 400, 800]), attempt=rng.randint(1, 3),
            id=f"iss_{rng.getrandbits(32):08x}",
        )
        lines.append({
            "timestamp": moment.isoformat().replace("+00:00", "Z"),
            "level": level,
            "source": source,
            "message": message,
            "attributes": {"colo": rng.choice(["AMS", "FRA", "LHR", "IAD"]), "version": "2024.11.2"},
        })
    return sorted(lines, key=lambda line: str(line["timestamp"]))


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records))


def main() -> None:
    global START
    parser = argparse.ArgumentParser(description="Write the sample Workers logs.")
    parser.add_argument("--end", help="'now' or an ISO time the two days end at (default: fixed)")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    args = parser.parse_args()
    if args.end:
        end = datetime.now(UTC) if args.end == "now" else datetime.fromisoformat(args.end)
        end = end.replace(minute=0, second=0, microsecond=0, tzinfo=end.tzinfo or UTC)
        START = end - timedelta(hours=HOURS)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20241118)
    write_jsonl(args.out / "orchestrator-tail.jsonl", tail_events(rng))
    write_jsonl(args.out / "apps.jsonl", app_lines(rng))


if __name__ == "__main__":
    main()
