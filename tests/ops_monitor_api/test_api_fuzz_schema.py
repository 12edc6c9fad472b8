"""Schemathesis against the schema a real monitor serves: no 500s, no response outside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from .live_monitor import records, running_monitor

EXAMPLES = 30  # per generation mode, across all operations: a bounded run of seconds


def test_fuzzing_the_served_schema_finds_no_server_error_or_schema_violation(
    tmp_path: Path,
) -> None:
    with running_monitor(f"sqlite:///{tmp_path / 'ops.db'}") as monitor:
        monitor.push(records("fuzzed", 50))  # something for scans to find and issues to list
        server = monitor.server
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
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
            case.call_and_validate(base_url=server.url)

        call()
