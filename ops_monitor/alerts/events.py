"""An alert event and the bodies sent for it (our generic JSON, or a Slack message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops_monitor.models import Issue


@dataclass(frozen=True)
class AlertEvent:
    """`name` is one of `rules.EVENTS` (or `test`); `subject` names what it is about
    (`issue:12`, `monitor:nightly-backup`) and is what throttling counts per; `episode` makes
    the event unique within its subject (the issue's history step, the monitor's missed tick),
    so the same event is never delivered twice to one target."""

    name: str
    subject: str
    episode: str
    level: str
    title: str
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)
    link: str | None = None

    def dedupe_key(self, target_index: int) -> str:
        return f"{self.name}|{self.subject}|{self.episode}|{target_index}"[:300]


def issue_event(name: str, issue: Issue, seq: int, at: datetime, note: str) -> AlertEvent:
    return AlertEvent(
        name=name,
        subject=f"issue:{issue.id}",
        episode=str(seq),
        level=issue.severity.value,
        title=issue.title,
        at=at,
        details={
            "issue": issue.model_dump(mode="json"),
            **({"note": note} if note else {}),
        },
        link=f"/issues/{issue.id}",
    )


def generic_body(event: AlertEvent, delivery_id: int) -> dict[str, Any]:
    return {
        "event": event.name,
        "subject": event.subject,
        "level": event.level,
        "title": event.title,
        "at": event.at.isoformat(),
        "delivery_id": delivery_id,
        "link": event.link,
        **dict(event.details),
    }


_LEADS = {
    "issue.new": "New issue",
    "issue.regressed": "Regressed",
    "issue.escalating": "Escalating",
    "cron.missed": "Cron job missed",
    "cron.failed": "Cron job failed",
    "cron.timed_out": "Cron job timed out",
    "test": "Test alert",
}


def slack_body(event: AlertEvent, delivery_id: int) -> dict[str, Any]:
    lead = _LEADS.get(event.name, event.name)
    note = event.details.get("note")
    text = f"*{lead}* ({event.level}): {event.title}"
    if note:
        text += f"\n{note}"
    if event.link:
        text += f"\n{event.link}"
    return {"text": text, "unfurl_links": False}


def body_for(kind: str, event: AlertEvent, delivery_id: int) -> dict[str, Any]:
    return slack_body(event, delivery_id) if kind == "slack" else generic_body(event, delivery_id)
