"""The `alerts:` configuration: where to send which events, from what level, how often.

```yaml
alerts:
  - url: https://hooks.slack.com/services/T000/B000/XXXX
    kind: slack                 # or generic (the default): our JSON event as the body
    events: [issue.new, issue.regressed, issue.escalating]   # default: every issue event
    min_level: high             # critical, high, medium or low (the default: everything)
    throttle: 10m               # at most one alert per issue (or monitor) and URL per 10 min
```
Only these URLs are ever called; each is checked here, at load, like every other setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ISSUE_EVENTS = ("issue.new", "issue.regressed", "issue.escalating")
CRON_EVENTS = ("cron.missed", "cron.failed", "cron.timed_out")
EVENTS = (*ISSUE_EVENTS, *CRON_EVENTS)
KINDS = ("generic", "slack")
LEVELS = ("critical", "high", "medium", "low")  # most severe first, as IssueSeverity
DEFAULT_THROTTLE_SECONDS = 600.0
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_KEYS = ("url", "kind", "events", "min_level", "throttle")


class AlertConfigError(ValueError):
    """A bad `alerts` entry; the message names the entry and the field."""


@dataclass(frozen=True)
class AlertRule:
    url: str
    kind: str = "generic"
    events: tuple[str, ...] = ISSUE_EVENTS
    min_level: str = "low"
    throttle_seconds: float = DEFAULT_THROTTLE_SECONDS

    @property
    def target(self) -> str:
        """The URL as records and pages show it: credentials, query and most of the path
        hidden (a Slack webhook's path is its secret)."""
        return public_target(self.url)

    def wants(self, event: str, level: str) -> bool:
        return event in self.events and at_least(level, self.min_level)

    def as_config(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "events": list(self.events),
            "min_level": self.min_level,
            "throttle": f"{self.throttle_seconds:g}s",
        }


def at_least(level: str, minimum: str) -> bool:
    rank = {name: i for i, name in enumerate(LEVELS)}
    return rank.get(level, len(LEVELS)) <= rank[minimum]


def public_target(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + segments[0] + ("/…" if len(segments) > 1 else "") if segments else "/"
    return urlunsplit((parts.scheme, host, path, "", ""))


def parse_alerts(raw: Any, where: str) -> tuple[AlertRule, ...]:
    """The rules in `raw` (a list of mappings; from the environment, a JSON list)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        import json

        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise AlertConfigError(f"{where}: expected a JSON list of alert targets") from error
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise AlertConfigError(f"{where}: expected a list of {{url, kind, events, ...}}")
    return tuple(_rule(item, f"{where}[{i}]") for i, item in enumerate(raw))


def _rule(item: Any, where: str) -> AlertRule:
    if isinstance(item, AlertRule):
        return item
    if not isinstance(item, Mapping):
        raise AlertConfigError(f"{where}: expected a mapping with at least `url`")
    unknown = sorted(str(key) for key in item if key not in _KEYS)
    if unknown:
        raise AlertConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise AlertConfigError(f"{where}.url: expected an http:// or https:// URL")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertConfigError(
            f"{where}.url: expected an http:// or https:// URL, got {public_target(url)!r}"
        )
    kind = item.get("kind", "generic")
    if kind not in KINDS:
        raise AlertConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    events = item.get("events", list(ISSUE_EVENTS))
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, Sequence) or not events:
        raise AlertConfigError(f"{where}.events: expected a non-empty list of events")
    for event in events:
        if event not in EVENTS:
            raise AlertConfigError(
                f"{where}.events: unknown event {event!r} (known: {', '.join(EVENTS)})"
            )
    level = item.get("min_level", "low")
    if level not in LEVELS:
        raise AlertConfigError(
            f"{where}.min_level: expected one of {', '.join(LEVELS)}, got {level!r}"
        )
    return AlertRule(
        url=url.strip(),
        kind=kind,
        events=tuple(dict.fromkeys(events)),
        min_level=level,
        throttle_seconds=_throttle(item.get("throttle", DEFAULT_THROTTLE_SECONDS), where),
    )


def _throttle(raw: Any, where: str) -> float:
    if isinstance(raw, bool):
        raise AlertConfigError(f"{where}.throttle: expected a span like 30s, 10m, 1h or 0")
    if isinstance(raw, int | float):
        seconds = float(raw)
    else:
        found = _SPAN.match(str(raw))
        if found is None:
            raise AlertConfigError(
                f"{where}.throttle: expected a span like 30s, 10m, 1h or 0, got {raw!r}"
            )
        seconds = float(found.group(1)) * _SECONDS[found.group(2)]
    if not 0 <= seconds <= 7 * 86400:
        raise AlertConfigError(f"{where}.throttle: must be between 0 and 7d")
    return seconds
