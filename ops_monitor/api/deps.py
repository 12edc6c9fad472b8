"""What routes depend on, injected so tests can swap each piece through `dependency_overrides`."""

from __future__ import annotations

from typing import cast

from starlette.requests import HTTPConnection

from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.ports import MonitorService  # routes annotate with it; stated in ports.py

__all__ = ["MonitorService", "get_broadcaster", "get_service"]


def get_service(connection: HTTPConnection) -> MonitorService:
    return cast(MonitorService, connection.app.state.service)


def get_broadcaster(connection: HTTPConnection) -> Broadcaster:
    return cast(Broadcaster, connection.app.state.broadcaster)
