"""What the API returns about monitors and their check-ins (pydantic, so FastAPI documents it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CheckinStatus = Literal["in_progress", "ok", "error"]


class CheckinRequest(BaseModel):
    """`POST /api/ops/monitors/{slug}/checkins`, with Sentry's fields. `timestamp` (optional, not
    in the future) records a check-in that happened earlier, for importing a job's history."""

    model_config = ConfigDict(extra="forbid")

    status: CheckinStatus
    checkin_id: str | None = Field(default=None, min_length=1, max_length=100)
    duration: float | None = Field(default=None, ge=0, le=366 * 86400)  # seconds
    monitor_config: dict[str, Any] | None = None
    timestamp: datetime | None = None


class CheckinAccepted(BaseModel):
    checkin_id: str
    monitor: str


class MonitorRequest(BaseModel):
    """`PUT /api/ops/monitors/{slug}`: declare or update a monitor. `since` (optional, past)
    states that the check-ins recorded from then on are the job's complete history."""

    model_config = ConfigDict(extra="forbid")

    monitor_config: dict[str, Any]
    since: datetime | None = None


class CheckinView(BaseModel):
    checkin_id: str
    status: str
    at: datetime
    slot: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    slots: int = 1
    origin: str
    exit_status: int | None = None
    excerpt: str | None = None


class MonitorView(BaseModel):
    slug: str
    state: str
    state_since: datetime
    paused: bool
    origin: str
    config: dict[str, Any]
    next_expected: datetime | None = None
    last_checkin_at: datetime | None = None
    last_outcome: str | None = None
    consecutive_failures: int = 0
    consecutive_ok: int = 0
    incident: bool = False
    seconds_late: float = 0.0
    window_hours: float
    counts: dict[str, int] = Field(default_factory=dict)  # runs by status within the window


class MonitorDetail(MonitorView):
    ping_key: str
    checkins: list[CheckinView] = Field(default_factory=list)


class DeclaredMonitor(MonitorView):
    """The answer to a declaration: the ping key, and whether the monitor is new."""

    ping_key: str
    created: bool


class StateChange(BaseModel):
    """Broadcast and logged whenever a monitor's state changes."""

    monitor: str
    previous: str
    state: str
    at: datetime
    next_expected: datetime | None = None
    reason: str | None = None
