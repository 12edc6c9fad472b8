"""What a log search asks for, parsed and bounded once for the API, the CLI and the console.

Times are ISO 8601 or relative to now (`15m`, `2h`, `7d`, `30s`); a page is at most `MAX_LIMIT`
records; the cursor is opaque to callers: the (timestamp, id) of the last record returned,
so the next page starts strictly after it whatever was ingested meanwhile (`<µs>_<id>`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_TEXT = 200  # characters of `q`, `source` and `level`
CURSOR_PATTERN = r"^(-?[0-9]{1,17})_([0-9]{1,18})$"
CURSOR = re.compile(CURSOR_PATTERN.strip("^$"))
SPAN_PATTERN = r"^[0-9]{1,9}[smhdw]$"
_LEAP_SECOND = re.compile(r"(\d{2}:\d{2}):60")
_RELATIVE = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class QueryError(ValueError):
    """A search parameter that cannot be used; the message names the parameter."""


def parse_when(value: str, now: datetime, name: str) -> datetime:
    """`15m` (that long before `now`) or an ISO 8601 time (UTC when no offset is given)."""
    relative = _RELATIVE.match(value)
    if relative is not None:
        amount, unit = int(relative.group(1)), relative.group(2)
        try:
            return max(now - timedelta(**{_UNITS[unit]: amount}), EARLIEST)
        except OverflowError:
            return EARLIEST
    text = value.strip().upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(_LEAP_SECOND.sub(r"\1:59", text))
    except ValueError:
        raise QueryError(
            f"{name}: expected an ISO 8601 time or a span like 15m, 2h, 7d, got {value[:40]!r}"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return min(max(moment, EARLIEST), LATEST)


@dataclass(frozen=True)
class Cursor:
    """The position after which the next (older) page starts."""

    ts_us: int
    record_id: int

    def encode(self) -> str:
        return f"{self.ts_us}_{self.record_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        found = CURSOR.fullmatch(text)
        if found is None:
            raise QueryError("cursor: not a cursor this server returned")
        return cls(int(found.group(1)), int(found.group(2)))


@dataclass(frozen=True)
class LogQuery:
    """One page of a search, newest first. `levels` and `sources` match exactly (any of them);
    `text` matches a substring of the message, case-insensitively."""

    text: str | None = None
    sources: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None

    @classmethod
    def parse(
        cls,
        *,
        q: str | None = None,
        source: str | None = None,
        level: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        now: datetime | None = None,
    ) -> LogQuery:
        """From the parameters as given (comma-separated lists for `source` and `level`)."""
        moment = now or datetime.now(UTC)
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit: must be between 1 and {MAX_LIMIT}, got {limit}")
        for name, value in (("q", q), ("source", source), ("level", level)):
            if value is not None and len(value) > MAX_TEXT:
                raise QueryError(f"{name}: at most {MAX_TEXT} characters")
        start = parse_when(since, moment, "since") if since else None
        end = parse_when(until, moment, "until") if until else None
        return cls(
            text=q or None,
            sources=_split(source),
            levels=_split(level.lower() if level else None),
            since=start,
            until=end,
            limit=limit,
            cursor=Cursor.decode(cursor) if cursor else None,
        )


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
