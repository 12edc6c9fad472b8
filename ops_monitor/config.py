"""The monitor's effective configuration: defaults, then an optional file, then `OPS_MONITOR_*`.

One frozen object that the service, the API, the scheduler and the runbooks all read, so a
schedule or a retention window means the same thing everywhere. Every error names the field and
where its value came from (the file path or the environment variable).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

DEFAULT_SCHEDULES: dict[str, str] = {"full": "0 2 * * *", "incremental": "0 */4 * * *"}
ENV_PREFIX = "OPS_MONITOR_"
CONFIG_ENV = "OPS_MONITOR_CONFIG"


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
    slow_request_ms: float = 1000.0
    spike_window_minutes: int = 60
    spike_factor: float = 5.0
    spike_min_count: int = 20
    ingest_batch_size: int = 5000
    malformed_samples: int = 10

    @classmethod
    def load(cls, path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, overridden by the file (`path` or `$OPS_MONITOR_CONFIG`), then by env vars."""
        env = os.environ if environ is None else environ
        settings = cls()
        file_path = path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
        if file_path is not None:
            settings = settings.merged(_read_file(file_path), str(file_path))
        overrides: dict[str, Any] = {}
        for item in fields(cls):
            name = ENV_PREFIX + item.name.upper()
            if name in env:
                overrides[item.name] = env[name]
        if "OPS_MONITOR_DB" in env and "db_url" not in overrides:
            overrides["db_url"] = env["OPS_MONITOR_DB"]
        return settings.merged(overrides, "environment", env_names=True)

    def merged(
        self, values: Mapping[str, Any], origin: str, *, env_names: bool = False
    ) -> Settings:
        """A copy with `values` applied and validated; unknown keys are an error naming the key."""
        known = {item.name: item for item in fields(self)}
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            where = f"{ENV_PREFIX}{key.upper()}" if env_names else key
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
    expected = type(getattr(current, key))
    if key == "schedules":
        return _schedules(raw, where)
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
        try:
            value = expected(raw)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{where}: expected a number, got {raw!r}") from error
        if value < 0 or (value == 0 and key not in {"port"}):
            raise ConfigError(f"{where}: must be positive, got {raw!r}")
        return value
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{where}: expected a non-empty string, got {raw!r}")
    if key == "db_url":
        try:
            make_url(raw)
        except Exception as error:
            raise ConfigError(f"{where}: not a database URL: {raw!r}") from error
    return raw


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
