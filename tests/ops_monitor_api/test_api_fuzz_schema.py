"""Schemathesis against the served OpenAPI schema: no 500s, no response outside the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from .conftest import app_with_double
from .live_server import live_server

EXAMPLES = 40  # per generation mode, across all operations; keeps the run to a few seconds


def test_fuzzing_the_served_schema_finds_no_server_error_or_schema_violation(
    tmp_path: Path,
) -> None:
    app, _ = app_with_double(tmp_path)
    with live_server(app) as server:
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
