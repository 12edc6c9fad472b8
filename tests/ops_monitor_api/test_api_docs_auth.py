"""With a token set, only /healthz is open: the API docs page and its schema need the token too.
The CLI refuses the resolutions the API refuses, with the same message. `serve` writes JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ops_monitor.api.app import create_app
from ops_monitor.cli import main
from ops_monitor.config import Settings

from .live_server import live_server

TOKEN = "s3cret"


def test_docs_and_schema_require_the_token_when_one_is_set(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN)
    with live_server(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        anonymous = {path: http.get(path).status_code for path in ("/docs", "/openapi.json")}
        wrong = http.get("/docs", headers={"Authorization": "Bearer nope"}).status_code
        authorised = {
            path: http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            for path in ("/docs", "/openapi.json")
        }
        redoc = http.get("/redoc", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        health = http.get("/healthz").status_code

    assert anonymous == {"/docs": 401, "/openapi.json": 401}
    assert wrong == 401
    assert "/openapi.json" in authorised["/docs"].text
    assert "/api/ops/scan" in authorised["/openapi.json"].json()["paths"]
    assert redoc == 404  # not served at all
    assert health == 200


def test_resolve_refuses_an_empty_resolution_with_the_api_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    for name in [name for name in os.environ if name.startswith("OPS_MONITOR_")]:
        monkeypatch.delenv(name)
    with live_server(create_app(Settings(db_url=db))) as server:
        api = httpx.post(f"{server.url}/api/ops/issues/2/resolve", json={"resolution": ""})

    code = main(["resolve", "2", "", "--db", db])

    err = capsys.readouterr().err
    assert api.status_code == 400
    assert code == 2
    assert err == f"ops-monitor: error: {api.json()['error']}\n"
    assert main(["resolve", "2", "x" * 2001, "--db", db]) == 2
    assert "at most 2000 characters" in capsys.readouterr().err


@pytest.mark.slow  # a real process: interpreter start, imports, migrations, scheduler catch-up
def test_serve_writes_one_json_object_per_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_monitor",
            "serve",
            "--db",
            f"sqlite:///{tmp_path / 'ops.db'}",
            "--port",
            "0",
        ],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and url is None:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if found := re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line):
            url = found.group(1)
    assert url is not None, "".join(lines)
    assert httpx.get(f"{url}/api/ops/scans").status_code == 200  # an access log line
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    lines += process.stderr.read().splitlines(keepends=True)

    parsed = [json.loads(line) for line in lines]  # any plain-text line fails here
    assert all(isinstance(line, dict) for line in parsed)
    loggers = {line.get("logger") for line in parsed}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    assert "scheduler_started" in {line.get("event") for line in parsed}
