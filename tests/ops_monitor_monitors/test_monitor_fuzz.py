"""Schemathesis against the monitors' routes as `serve` builds them: no 500s, no answer outside
the schema, with a monitor declared so that most generated calls reach the service.

A schema-valid request may still be refused: a cron expression, a time zone or a slug is checked
beyond what JSON Schema can say (with a 400 naming the field), so that one check is left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_monitor_api.live_server import live_server
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from ops_monitor.client import OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings

EXAMPLES = 40


def test_fuzzing_the_monitors_routes_finds_no_server_error(tmp_path: Path) -> None:
    app = build_app(Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", scheduler_enabled=False))
    with live_server(app) as server, OpsMonitorClient(server.url) as client:
        client.declare_monitor("nightly", {"schedule": "0 2 * * *"})
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json").include(
            path_regex="^/(api/ops/monitors|ping)"
        )
        cases = st.one_of(
            schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
            schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES * 2,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=server.url, excluded_checks=[positive_data_acceptance])

        call()
