"""Fixtures for the console, log search and alert tests: the monitor `serve` runs, for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_monitor_api.live_monitor import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, and a fresh PostgreSQL schema: the live tests run on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.db'}"
    else:
        with postgres_schema() as url:
            yield url
