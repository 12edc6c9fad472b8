"""The app `ops-monitor serve` runs (API, console, alerts; the scheduler off), on a real uvicorn
server on 127.0.0.1, over a real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from ops_monitor_api.live_server import LiveServer, live_server

from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.client import OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.oncall.service import OnCallService
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store


@dataclass
class ServedMonitor:
    server: LiveServer
    client: OpsMonitorClient
    service: OpsMonitorService
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def oncall(self) -> OnCallService:
        found = self.server.app.state.oncall
        assert isinstance(found, OnCallService)
        return found

    def push(self, batch: list[dict[str, Any]]) -> int:
        return self.client.push_logs(batch).accepted


@contextmanager
def served_monitor(
    db_url: str, *, token: str | None = None, **settings: Any
) -> Iterator[ServedMonitor]:
    config = replace(
        Settings(db_url=db_url, token=token, scheduler_enabled=False, schedules={}), **settings
    )
    store = Store(db_url)
    broadcaster = Broadcaster()
    service = OpsMonitorService.from_settings(store, config, on_scan_completed=broadcaster.publish)
    app = build_app(config, service, broadcaster)
    try:
        with live_server(app) as server, OpsMonitorClient(server.url, token=token) as client:
            yield ServedMonitor(server, client, service, config)
    finally:
        store.close()
