"""Alerts to configured webhooks (generic JSON or Slack) on new, regressed and escalating issues
and on cron failures; see `rules` for the configuration and `dispatcher` for the delivery.

Other parts of the monitor raise an event with `notify`, e.g. the cron monitors:

    from ops_monitor import alerts
    alerts.notify("cron.missed", {"subject": "monitor:nightly", "episode": tick.isoformat(),
                                  "title": "nightly missed its 02:00 run", "level": "high"})

It only queues the event and never raises: delivery happens after, on the dispatcher's thread,
when a dispatcher is running in this process (`ops-monitor serve`); otherwise it returns False.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def notify(self, event: str, payload: Mapping[str, Any]) -> bool: ...


_current: list[Notifier] = []


def install(notifier: Notifier) -> None:
    _current.append(notifier)


def uninstall(notifier: Notifier) -> None:
    if notifier in _current:
        _current.remove(notifier)


def notify(event: str, payload: Mapping[str, Any]) -> bool:
    """Queue `event` (one of `rules.EVENTS`) for delivery; False when no dispatcher runs here
    or the event is unusable (logged). `payload`: `subject` and `title` (required), `episode`,
    `level` (default high), `at`, and anything else, sent along as details."""
    if not _current:
        log.info("alert %s not sent: no alert dispatcher runs in this process", event)
        return False
    try:
        return _current[-1].notify(event, payload)
    except Exception:
        log.exception("alert %s could not be queued", event)
        return False
