"""What a log search answers: records newest first, and where the next page starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class LogEntry(BaseModel):
    """One stored record as it was ingested (`outcome` and the duration back in `attributes`)."""

    id: int
    timestamp: datetime
    source: str
    level: str
    message: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class LogPage(BaseModel):
    records: list[LogEntry]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next (older) page; null at the end."
    )
    searched_to: datetime | None = Field(
        default=None,
        description="Set when a text search stopped at its cost bound before filling the page: "
        "records older than this were not searched yet (follow `next_cursor` to go on).",
    )
