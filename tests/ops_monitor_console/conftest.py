"""Fixtures for the console, log search and alert tests: the monitor `serve` runs, for real."""

from __future__ import annotations

from ops_monitor_api.live_monitor import db_url  # noqa: F401 - a fixture: pytest finds it by name
