"""Shapes of the on-call views: an issue's history, its ignore rule, its occurrence timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from ops_monitor.models import Issue
from ops_monitor.views.log_page import LogEntry


class EventKind(StrEnum):
    """A step in an issue's life, as its history shows it and alerts name it (`issue.<kind>`)."""

    NEW = "new"
    REGRESSED = "regressed"
    ESCALATING = "escalating"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    UNIGNORED = "unignored"
    REOPENED = "reopened"


ALERTED_KINDS = (EventKind.NEW, EventKind.REGRESSED, EventKind.ESCALATING)


class IssueEvent(BaseModel):
    issue_id: int
    seq: int
    at: datetime
    kind: EventKind
    occurrences: int
    detail: str = ""


class IgnoreRule(BaseModel):
    """Hidden until `until` passes or the issue reaches `until_occurrences`, whichever first."""

    created_at: datetime
    until: datetime | None = None
    until_occurrences: int | None = None


class TimelineBucket(BaseModel):
    start: datetime
    count: int


class IssueDetail(BaseModel):
    issue: Issue
    rule: str
    template_id: str
    history: list[IssueEvent] = Field(default_factory=list)
    ignored: IgnoreRule | None = None
    timeline: list[TimelineBucket] = Field(default_factory=list)
    timeline_truncated: bool = False
    sample_records: list[LogEntry] = Field(
        default_factory=list, description="The latest stored records of the issue, in full."
    )


IssueState = Literal["open", "new", "ongoing", "regressed", "resolved", "ignored", "all"]
IssueSort = Literal["last_seen", "count", "first_seen", "severity"]
