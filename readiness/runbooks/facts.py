"""The facts the runbooks state, gathered from where they live: the monitor's own configuration
(`ops-monitor config --json`, run as a subprocess because `readiness` may not import the monitor),
each rule's documentation, and the hooks and action this repository ships.

PyYAML is imported where it is used: `readiness --help` lists the runbooks command without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checks.cli_support import UserError
from readiness.runbooks.schedule import Collision, InvalidCron, Schedule, find_collisions, firings

CONFIG_TIMEOUT_SECONDS = 60.0


class RunbookConfigError(UserError):
    """The monitor configuration could not be read or does not have the expected shape (exit 2)."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str = ""


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str = ""
    help: str = ""


@dataclass(frozen=True)
class MonitorFacts:
    """What the runbooks say about the monitor, parsed from `ops-monitor config --json`."""

    schedules: tuple[Schedule, ...]
    routes: tuple[Route, ...]
    metrics: tuple[Metric, ...]
    database: str
    retention_days: int | None
    host: str
    port: int
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def collisions(self) -> tuple[Collision, ...]:
        return find_collisions(self.schedules)

    def route(self, path: str) -> Route | None:
        return next((route for route in self.routes if route.path == path), None)

    def schedule_for(self, scope: str) -> Schedule | None:
        return next((s for s in self.schedules if s.scope == scope), None)


@dataclass(frozen=True)
class RuleDoc:
    id: str
    title: str
    severity: str
    docs: str


@dataclass(frozen=True)
class Adoption:
    """How a repository adopts the checks: the pre-commit hooks and the action this one ships."""

    hooks: tuple[Mapping[str, Any], ...]
    action_inputs: tuple[tuple[str, str], ...]


# ---------------------------------------------------------------------------- the monitor


def read_monitor_config(
    cwd: Path, env: Mapping[str, str] | None = None, python: str = sys.executable
) -> dict[str, Any]:
    """Run `python -m ops_monitor config --json` the way the service would load its settings."""
    argv = [python, "-m", "ops_monitor", "config", "--json"]
    try:
        completed = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            capture_output=True,
            text=True,
            timeout=CONFIG_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RunbookConfigError(f"could not run 'ops-monitor config --json': {error}") from error
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()
        reason = detail[-1] if detail else f"exit status {completed.returncode}"
        raise RunbookConfigError(f"'ops-monitor config --json' failed: {reason}")
    try:
        data = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise RunbookConfigError(
            f"'ops-monitor config --json' printed invalid JSON: {error.msg} at line {error.lineno}"
        ) from error
    if not isinstance(data, dict):
        raise RunbookConfigError("'ops-monitor config --json' must print a JSON object")
    return data


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise RunbookConfigError(f"monitor configuration: missing field '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RunbookConfigError(f"monitor configuration: field '{key}' has the wrong type")
    return value


def parse_monitor_facts(data: Mapping[str, Any]) -> MonitorFacts:
    """Turn the monitor's JSON configuration into facts; a missing field is a one-line error."""
    raw_schedules = _require(data, "schedules", dict)
    scopes = data.get("schedule_scopes", {})
    if not isinstance(scopes, dict):
        raise RunbookConfigError(
            "monitor configuration: field 'schedule_scopes' has the wrong type"
        )
    schedules = tuple(
        expand_schedule(str(name), {"cron": value, "scope": scopes[name]})
        if isinstance(value, str) and name in scopes
        else expand_schedule(str(name), value)
        for name, value in sorted(raw_schedules.items())
    )
    routes = tuple(
        sorted((_parse_route(item) for item in _require(data, "routes", list)), key=_route_key)
    )
    metrics = tuple(
        sorted((_parse_metric(item) for item in _require(data, "metrics", list)), key=_metric_key)
    )
    retention = data.get("retention_days")
    return MonitorFacts(
        schedules=schedules,
        routes=routes,
        metrics=metrics,
        database=describe_database(str(data.get("db_url", ""))),
        retention_days=retention if isinstance(retention, int) else None,
        host=str(data.get("host", "127.0.0.1")),
        port=int(data.get("port", 8787)),
        settings=data,
    )


def _route_key(route: Route) -> tuple[str, str]:
    return (route.path, route.method)


def _metric_key(metric: Metric) -> str:
    return metric.name


def _parse_route(item: Any) -> Route:
    if isinstance(item, str):
        method, _, path = item.partition(" ")
        return Route(method=method.upper(), path=path.strip() or method)
    if isinstance(item, Mapping) and "path" in item:
        methods = item.get("methods") or [item.get("method", "GET")]
        method = ",".join(str(m).upper() for m in methods) if isinstance(methods, list) else "GET"
        return Route(method=method, path=str(item["path"]), summary=str(item.get("summary", "")))
    raise RunbookConfigError(f"monitor configuration: route {item!r} has no 'path'")


def _parse_metric(item: Any) -> Metric:
    if isinstance(item, str):
        return Metric(name=item)
    if isinstance(item, Mapping) and "name" in item:
        return Metric(
            name=str(item["name"]),
            kind=str(item.get("type", item.get("kind", ""))),
            help=str(item.get("help", item.get("documentation", ""))),
        )
    raise RunbookConfigError(f"monitor configuration: metric {item!r} has no 'name'")


def expand_schedule(name: str, value: Any) -> Schedule:
    """A schedule is `name: "cron"` or `name: {cron, scope}`; by default the name is the scope."""
    if isinstance(value, Mapping):
        expression = value.get("cron", value.get("expression"))
        scope = value.get("scope", name)
    else:
        expression, scope = value, name
    if not isinstance(expression, str):
        raise RunbookConfigError(f"monitor configuration: schedule '{name}' has no cron expression")
    try:
        fired = firings(expression)
    except InvalidCron as error:
        raise RunbookConfigError(
            f"monitor configuration: schedule '{name}': invalid cron '{expression}': {error}"
        ) from error
    return Schedule(name=name, expression=expression, scope=str(scope), firings=fired)


def describe_database(url: str) -> str:
    """Name the store without machine-specific paths or passwords, so the text is portable."""
    if not url:
        return "not configured"
    parts = urlsplit(url)
    kind = parts.scheme.split("+", 1)[0]
    if kind == "sqlite":
        name = Path(parts.path.lstrip("/")).name if parts.path.strip("/") else ":memory:"
        return f"SQLite file `{name}`"
    if kind.startswith("postgres"):
        return f"PostgreSQL database `{parts.path.lstrip('/') or 'postgres'}`"
    return f"`{kind}` database"


# ---------------------------------------------------------------------------- rules and adoption


def load_rules() -> tuple[RuleDoc, ...]:
    """Each rule's documentation, as `readiness check --explain` shows it."""
    from checks import registry  # the engine may be absent in a partial install

    return tuple(
        RuleDoc(
            id=rule.id,
            title=rule.title,
            severity=str(getattr(rule.severity, "value", rule.severity)),
            docs=rule.docs,
        )
        for rule in sorted(registry.rules(), key=lambda rule: str(rule.id))
    )


def load_adoption(root: Path) -> Adoption:
    """Read the hook and action definitions at `root`, if this repository ships them."""
    import yaml

    hooks: tuple[Mapping[str, Any], ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    hooks_file = root / ".pre-commit-hooks.yaml"
    action_file = root / "action.yml"
    try:
        if hooks_file.is_file():
            loaded = yaml.safe_load(hooks_file.read_text(encoding="utf-8")) or []
            hooks = tuple(hook for hook in loaded if isinstance(hook, Mapping) and "id" in hook)
        if action_file.is_file():
            action = yaml.safe_load(action_file.read_text(encoding="utf-8")) or {}
            declared = action.get("inputs") or {}
            inputs = tuple(
                (str(name), " ".join(str((spec or {}).get("description", "")).split()))
                for name, spec in declared.items()
            )
    except (yaml.YAMLError, AttributeError, TypeError) as error:
        raise RunbookConfigError(f"{hooks_file.name} or {action_file.name}: {error}") from error
    return Adoption(hooks=hooks, action_inputs=inputs)
