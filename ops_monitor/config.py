"""The monitor's effective configuration: defaults, then an optional file, then `OPS_MONITOR_*`.

One frozen object that the service, the API, the scheduler and the runbooks all read, so a
schedule or a retention window means the same thing everywhere. Every error names the field and
where its value came from (the file path or the environment variable).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from ops_monitor.alerts.rules import AlertConfigError, AlertRule, parse_alerts

DEFAULT_SCHEDULES: dict[str, str] = {"full": "0 2 * * *", "incremental": "0 */4 * * *"}
ENV_PREFIX = "OPS_MONITOR_"
CONFIG_ENV = "OPS_MONITOR_CONFIG"
DB_ENV = "OPS_MONITOR_DB"  # the short name for OPS_MONITOR_DB_URL, which wins when both are set
# Variables with our prefix that are read on purpose but are not settings. Any other
# OPS_MONITOR_* name that is not a setting is a typo and stops the load, like an unknown file key.
EXTRA_ENV = frozenset({CONFIG_ENV, DB_ENV})

# Inclusive limits of the numeric settings: a value outside them could not work (a port the OS
# refuses, a window that overflows a datetime or a BIGINT) and would fail later, far from its cause.
_HOURS_IN_A_YEAR = 24 * 365
LIMITS: dict[str, tuple[float, float | None]] = {
    "port": (0, 65535),  # 0: let the OS pick a free port (serve prints the one it got)
    "retention_days": (1, 36500),
    "starting_deadline_hours": (0, _HOURS_IN_A_YEAR),  # lower bound exclusive, see _POSITIVE
    "cron_grace_hours": (0, _HOURS_IN_A_YEAR),
    "max_push_bytes": (1, None),
    "max_body_bytes": (1, None),
    "db_connect_timeout_seconds": (0, 3600),  # lower bound exclusive, see _POSITIVE
    "db_statement_timeout_seconds": (0, 24 * 3600),
    "db_pool_timeout_seconds": (0, 3600),
    "keep_alive_timeout_seconds": (1, 3600),
    "max_connections": (1, 1_000_000),
    "slow_request_ms": (0, None),
    "spike_window_minutes": (1, 60 * _HOURS_IN_A_YEAR),
    "spike_factor": (0, None),
    "spike_min_count": (1, None),
    "ingest_batch_size": (1, 100_000),  # the same bound as `ingest --batch-size`
    "malformed_samples": (1, 1000),
}
_POSITIVE = frozenset(
    {
        "starting_deadline_hours",
        "cron_grace_hours",
        "slow_request_ms",
        "spike_factor",
        "db_connect_timeout_seconds",
        "db_statement_timeout_seconds",
        "db_pool_timeout_seconds",
    }
)


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the field and its origin."""


def default_db_url() -> str:
    return f"sqlite:///{Path.cwd() / 'ops-monitor.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything the monitor can be told. Field names are the file keys and, upper-cased after
    `OPS_MONITOR_`, the environment variables."""

    db_url: str = field(default_factory=default_db_url)
    retention_days: int = 30
    token: str | None = None
    host: str = "127.0.0.1"
    port: int = 8787
    url: str | None = None  # a running monitor to talk to instead of the local database
    # name -> cron (the name is the scope: full or incremental), or name -> {cron, scope}
    schedules: Mapping[str, str | Mapping[str, str]] = field(
        default_factory=lambda: dict(DEFAULT_SCHEDULES)
    )
    starting_deadline_hours: float = 24.0
    cron_grace_hours: float = 1.0
    scheduler_enabled: bool = True
    max_push_bytes: int = 10 * 1024 * 1024
    # Every other route that reads a body (a scan's filters, a resolution): far more than any
    # honest request needs, far less than would hurt the server.
    max_body_bytes: int = 1024 * 1024
    # A database that is down or stalled must cost a request seconds, not minutes: connecting,
    # one statement, and waiting for a pooled connection are each bounded (the client's own
    # timeout is 10 s). A scan's statements stay well inside 60 s on millions of records.
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 60.0
    db_pool_timeout_seconds: float = 3.0
    # `serve`: an idle connection (none yet, or between keep-alive requests) is closed after this
    # long, and connections beyond `max_connections` are closed at once, so idle sockets cannot
    # use up the process's file descriptors.
    keep_alive_timeout_seconds: int = 5
    max_connections: int = 1000
    slow_request_ms: float = 1000.0
    spike_window_minutes: int = 60
    spike_factor: float = 5.0
    spike_min_count: int = 20
    ingest_batch_size: int = 5000
    malformed_samples: int = 10
    alerts: tuple[AlertRule, ...] = ()  # webhooks: see ops_monitor/alerts/rules.py
    # cron monitors of the monitored system's jobs: [{slug, schedule, timezone, ...}, ...]
    monitors: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        also_read: Collection[str] = (),
    ) -> Settings:
        """Defaults, overridden by the file (`path` or `$OPS_MONITOR_CONFIG`), then by env vars.

        `also_read` names further variables the caller reads itself (`serve --token-env`), so
        that one with our prefix is not mistaken for a misspelt setting."""
        env = os.environ if environ is None else environ
        settings = cls()
        file_path = path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
        if file_path is not None:
            settings = settings.merged(_read_file(file_path), str(file_path))
        overrides: dict[str, Any] = {}
        names: dict[str, str] = {}
        for item in fields(cls):
            name = ENV_PREFIX + item.name.upper()
            if name in env:
                overrides[item.name], names[item.name] = env[name], name
        if DB_ENV in env and "db_url" not in overrides:
            overrides["db_url"], names["db_url"] = env[DB_ENV], DB_ENV
        expected = set(names.values()) | EXTRA_ENV | set(also_read)
        unknown = sorted(
            name for name in env if name.startswith(ENV_PREFIX) and name not in expected
        )
        if unknown:
            raise ConfigError(
                f"environment: unknown setting {unknown[0]!r} (a misspelt OPS_MONITOR_* "
                "variable? `ops-monitor config` lists the settings)"
            )
        return settings.merged(overrides, "environment", names=names)

    def merged(
        self, values: Mapping[str, Any], origin: str, *, names: Mapping[str, str] | None = None
    ) -> Settings:
        """A copy with `values` applied and validated; unknown keys are an error naming the key.
        `names` gives the name to quote for a key (the environment variable it came from)."""
        known = {item.name: item for item in fields(self)}
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            where = (names or {}).get(key, key)
            if key not in known:
                raise ConfigError(f"{origin}: unknown setting {where!r}")
            changes[key] = _coerce(key, raw, self, f"{origin}: {where}")
        return replace(self, **changes)

    def public_db_url(self) -> str:
        """The database URL with any password masked, for printing."""
        return mask_password(self.db_url)

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def mask_password(url: str) -> str:
    try:
        parsed = make_url(url)
    except Exception:  # not a URL we understand: print nothing secret-looking
        return "<unparseable url>"
    return parsed.render_as_string(hide_password=True)


def _read_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); save the file as UTF-8"
        ) from error
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
            data = data.get("tool", {}).get("ops-monitor", data)
        else:
            data = yaml.safe_load(text) or {}
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from error
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    return data


def _coerce(key: str, raw: Any, current: Settings, where: str) -> Any:
    if key == "alerts":
        try:
            return parse_alerts(raw, where)
        except AlertConfigError as error:
            raise ConfigError(str(error)) from None
    expected = type(getattr(current, key))
    if key == "schedules":
        return _schedules(raw, where)
    if key == "monitors":
        return _monitors(raw, where)
    if key in {"token", "url"}:
        return None if raw in (None, "") else str(raw)
    if expected is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected true or false, got {raw!r}")
    if expected in (int, float):
        return _number(key, raw, expected is int, where)
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{where}: expected a non-empty string, got {raw!r}")
    if key == "db_url":
        try:
            make_url(raw)
        except Exception as error:
            raise ConfigError(
                f"{where}: not a database URL: {_redacted(raw)!r} (expected sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/NAME)"
            ) from error
    return raw


def _redacted(url: str) -> str:
    """`url` with what looks like a password masked: a URL too broken to parse may still hold
    one, and error messages end up in logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _number(key: str, raw: Any, whole: bool, where: str) -> int | float:
    """A finite number within the setting's limits. Booleans are refused: YAML's `true` is an
    int to Python, and `retention_days: true` meaning one day is never what was meant."""
    shown = _shown(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ConfigError(f"{where}: expected a number, got {shown}")
    value: int | float
    if isinstance(raw, int):
        value = raw
    else:
        try:
            value = float(raw)
        except ValueError as error:
            raise ConfigError(f"{where}: expected a number, got {shown}") from error
        if whole and isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
            value = int(raw)  # exact, however large: the limits below speak about it
        elif not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {shown}")
        elif whole:
            if not value.is_integer():
                raise ConfigError(f"{where}: expected a whole number, got {shown}")
            value = int(value)
    low, high = LIMITS.get(key, (1, None))
    if low == 0 and key not in _POSITIVE and high is not None and not low <= value <= high:
        raise ConfigError(f"{where}: must be between {low:g} and {high:g}, got {shown}")
    if value < low or (value == low and key in _POSITIVE):
        raise ConfigError(f"{where}: must be positive, got {shown}")
    if high is not None and value > high:
        raise ConfigError(f"{where}: must be at most {high:g}, got {shown}")
    return value


def _shown(raw: Any) -> str:
    """`raw` for an error message, cut short: a message is one line, not the whole value."""
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _schedules(raw: Any, where: str) -> dict[str, str | dict[str, str]]:
    """`name: "cron"` (the name is the scope) or `name: {cron, scope}`, checked here so that a
    schedule the scheduler could not run stops every command at load time, not only `scheduler`."""
    from ops_monitor.scheduling.schedules import ScheduleError, parse_schedule

    if isinstance(raw, str):  # from the environment: JSON object
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{where}: expected a JSON object of name: cron") from error
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of schedule name to cron expression")
    schedules: dict[str, str | dict[str, str]] = {}
    for name, value in raw.items():
        if not isinstance(value, Mapping):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}.{name}: expected a cron expression, got {value!r}")
            _validate_cron(value, f"{where}.{name}")
        try:
            schedule = parse_schedule(str(name), value)
        except ScheduleError as error:
            raise ConfigError(f"{where}.{name}: {error}") from None
        if schedule.scope == schedule.name:
            schedules[schedule.name] = schedule.expression
        else:
            schedules[schedule.name] = {"cron": schedule.expression, "scope": schedule.scope}
    return schedules


def _validate_cron(expression: str, where: str) -> None:
    from datetime import UTC, datetime

    from cronsim import CronSim, CronSimError

    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ConfigError(f"{where}: invalid cron expression {expression!r}: {error}") from error


def _monitors(raw: Any, where: str) -> tuple[dict[str, Any], ...]:
    """`[{slug, schedule, ...}]` (a JSON array from the environment), each checked as a monitor
    configuration so that a monitor the scheduler could not evaluate stops the load."""
    from ops_monitor.monitors.config import MonitorConfigError, check_slug, parse_monitor_config

    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{where}: expected a JSON array of monitors") from error
    if not isinstance(raw, list | tuple):
        raise ConfigError(f"{where}: expected a list of monitors ({{slug, schedule, ...}})")
    monitors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}[{index}]: expected a mapping with slug and schedule")
        settings = {key: value for key, value in entry.items() if key != "slug"}
        try:
            slug = check_slug(entry.get("slug"))
            parse_monitor_config(settings, "monitor")
        except MonitorConfigError as error:
            detail = str(error)
            if detail.startswith("monitor"):  # "monitor.schedule: ..." or "monitor: ..."
                detail = detail.removeprefix("monitor").removeprefix(".")
                detail = detail if detail.startswith(":") else f".{detail}"
            else:
                detail = f".{detail}"
            raise ConfigError(f"{where}[{index}]{detail}") from None
        if slug in seen:
            raise ConfigError(f"{where}[{index}].slug: {slug!r} is declared twice")
        seen.add(slug)
        monitors.append({"slug": slug, **settings})
    return tuple(monitors)
