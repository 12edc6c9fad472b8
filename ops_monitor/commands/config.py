"""`ops-monitor config`: the effective configuration, as people and the runbooks read it.

`--json` prints one object with stable keys (the readiness runbooks render from it):

* `config_version` (int, 1): bumped when a key changes meaning.
* `db_url` (str): the database URL with any password masked.
* `retention_days` (int), `host` (str), `port` (int), `token_required` (bool),
  `max_push_bytes` (int), `starting_deadline_hours` (float).
* `schedules` (object): schedule name -> cron expression (UTC).
* `schedule_scopes` (object): schedule name -> the scope it scans, `full` or `incremental`
  (a schedule named `full` or `incremental` scans that scope unless configured otherwise).
* `rules` (object): `slow_request_ms`, `spike_window_minutes`, `spike_factor`, `spike_min_count`.
* `routes` (list): `{"method": ..., "path": ...}` for every HTTP route and the WebSocket.
* `metrics` (list of str): every series name `/metrics` exposes, sorted.
"""

from __future__ import annotations

import json
from typing import Any

import click
from prometheus_client import CollectorRegistry

from ops_monitor.commands.local import db_option, load_settings
from ops_monitor.config import Settings

CONFIG_VERSION = 1
EXAMPLES = """\b
Examples:
  ops-monitor config
  ops-monitor config --json
  OPS_MONITOR_CONFIG=ops-monitor.yaml ops-monitor config --json
"""


def routes(settings: Settings) -> list[dict[str, str]]:
    """The routes of the app `serve` runs, read from the app itself (never a copied list): HTTP
    routes from its OpenAPI schema, WebSockets from its routers."""
    from ops_monitor.commands.serve import build_app

    app = build_app(settings)
    found = [
        {"method": method.upper(), "path": path}
        for path, operations in app.openapi().get("paths", {}).items()
        for method in operations
    ]
    found += [{"method": "WEBSOCKET", "path": path} for path in _websocket_paths(app.routes)]
    return sorted(found, key=lambda r: (r["path"], r["method"]))


def _websocket_paths(routes: Any) -> list[str]:
    from starlette.routing import WebSocketRoute

    paths: list[str] = []
    for route in routes:
        if isinstance(route, WebSocketRoute):
            paths.append(route.path)
        nested = getattr(route, "original_router", None) or getattr(route, "router", None)
        if nested is not None and nested is not route:
            paths += _websocket_paths(getattr(nested, "routes", []))
    return paths


def metric_names() -> list[str]:
    """Series names as exposed: the service's registry plus the scheduler's and the cron
    monitors' metrics."""
    from ops_monitor.metrics import REGISTRY, STORE_METRIC_NAMES
    from ops_monitor.monitors.metrics import MonitorMetrics
    from ops_monitor.scheduling.metrics import SchedulerMetrics

    scheduler = CollectorRegistry()
    SchedulerMetrics(scheduler)
    MonitorMetrics(scheduler)
    names: set[str] = set(STORE_METRIC_NAMES)
    for registry in (REGISTRY, scheduler):
        for family in registry.collect():
            names.add(family.name + "_total" if family.type == "counter" else family.name)
    return sorted(names)


def effective(settings: Settings) -> dict[str, Any]:
    from ops_monitor.scheduling.schedules import parse_schedules

    schedules = parse_schedules(settings.schedules)  # validated when the settings loaded
    return {
        "config_version": CONFIG_VERSION,
        "db_url": settings.public_db_url(),
        "retention_days": settings.retention_days,
        "host": settings.host,
        "port": settings.port,
        "token_required": bool(settings.token),
        "max_push_bytes": settings.max_push_bytes,
        "starting_deadline_hours": settings.starting_deadline_hours,
        "schedules": {schedule.name: schedule.expression for schedule in schedules},
        "schedule_scopes": {schedule.name: schedule.scope for schedule in schedules},
        "rules": {
            "slow_request_ms": settings.slow_request_ms,
            "spike_window_minutes": settings.spike_window_minutes,
            "spike_factor": settings.spike_factor,
            "spike_min_count": settings.spike_min_count,
        },
        "routes": routes(settings),
        "metrics": metric_names(),
    }


@click.command("config", epilog=EXAMPLES)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (stable keys).")
@db_option
def config_command(as_json: bool, db_url: str | None) -> None:
    """Print the effective configuration: defaults, the config file, then OPS_MONITOR_* vars."""
    data = effective(load_settings(db_url))
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for name, item in value.items():
                click.echo(f"  {name}: {item}")
        elif isinstance(value, list):
            click.echo(f"{key}:")
            for item in value:
                text = f"{item['method']} {item['path']}" if isinstance(item, dict) else item
                click.echo(f"  {text}")
        else:
            click.echo(f"{key}: {value}")
