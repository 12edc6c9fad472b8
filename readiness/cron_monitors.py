"""One cron monitor per (worker, cron) of a repository: declared, fed a history, and judged.

The triggers come from `checks` (the `cron-handler` rule's own parsing), the monitors live in a
running ops monitor reached through `OpsMonitorClient`; nothing here touches its database. A
monitor's slug is a pure function of the worker's name and the cron, so a sync run twice, or on
another machine, names the same monitors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cronsim import CronSim

from checks.api import CronTrigger, repository_cron_triggers
from ops_monitor.client import CronMonitor, OpsMonitorClient

# Workers run cron triggers in UTC, and stop a scheduled handler after 15 minutes of wall time.
WORKER_MAX_RUNTIME_MINUTES = 15
DEFAULT_MARGIN_MINUTES = 5
FAILING = ("missed", "error", "timed_out")
_CRON_CHARS = {"*": "x", "/": "s", ",": "c", "-": "t", "?": "q", "#": "n"}
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")


class HistoryError(ValueError):
    """A check-in history file that cannot be used; the message names the file and field."""


def slug_for(worker: str, cron: str) -> str:
    """`orchestrator` + `0 */4 * * *` -> `orchestrator-0-xs4-x-x-x`: readable and stable."""
    fields = ["".join(_CRON_CHARS.get(char, char) for char in field) for field in cron.split()]
    readable = _NOT_SLUG.sub("-", "-".join([worker.lower(), *fields]).lower()).strip("-_")
    if len(readable) <= 100:
        return readable
    digest = hashlib.sha256(f"{worker}\x1f{cron}".encode()).hexdigest()[:8]
    return f"{readable[:91].rstrip('-_')}-{digest}"


def monitor_config_for(cron: str) -> dict[str, Any]:
    return {
        "schedule": cron,
        "timezone": "UTC",
        "checkin_margin": DEFAULT_MARGIN_MINUTES,
        "max_runtime": WORKER_MAX_RUNTIME_MINUTES,
    }


@dataclass(frozen=True)
class SyncedTrigger:
    trigger: CronTrigger
    slug: str | None  # None: not declared (an invalid cron)
    created: bool = False
    ping_key: str | None = None


def triggers(root: Path) -> list[CronTrigger]:
    return repository_cron_triggers(root)


def sync(
    found: Sequence[CronTrigger],
    client: OpsMonitorClient,
    *,
    since: Callable[[str], datetime | None] = lambda slug: None,
) -> list[SyncedTrigger]:
    """Declare a monitor for every valid trigger (idempotent: existing ones keep their key and
    history)."""
    synced: list[SyncedTrigger] = []
    for trigger in found:
        if trigger.problem is not None:
            synced.append(SyncedTrigger(trigger, None))
            continue
        slug = slug_for(trigger.worker, trigger.cron)
        config = monitor_config_for(trigger.cron)
        declared = client.declare_monitor(slug, config, since=since(slug))
        synced.append(SyncedTrigger(trigger, slug, bool(declared.created), declared.ping_key))
    return synced


# ---------------------------------------------------------------- check-in history


@dataclass(frozen=True)
class HistoryJob:
    worker: str
    cron: str
    duration_seconds: float
    hours: float | None = None  # how far back this job's history goes (default: the file's)


@dataclass(frozen=True)
class History:
    """Check-ins as the listed jobs' `scheduled()` handlers sent them, relative to now: each
    listed job checked in at every run its cron expected over its last `hours` (the file's, or
    its own); a job not listed never checked in. Each monitor is watched from that far back."""

    hours: float
    jobs: tuple[HistoryJob, ...]

    @classmethod
    def load(cls, path: Path) -> History:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise HistoryError(f"{path}: cannot read: {error}") from None
        if not isinstance(data, Mapping):
            raise HistoryError(f"{path}: expected a mapping with hours and jobs")
        hours = data.get("hours")
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not 0 < hours <= 24 * 31
        ):
            raise HistoryError(
                f"{path}: hours: expected a number of hours up to 744, got {hours!r}"
            )
        jobs = data.get("jobs")
        jobs = [] if jobs is None else jobs
        if not isinstance(jobs, list):
            raise HistoryError(f"{path}: jobs: expected a list")
        return cls(float(hours), tuple(_job(path, index, job) for index, job in enumerate(jobs)))

    def checkins(self, now: datetime) -> list[tuple[str, str, datetime, float]]:
        """(slug, status, when, duration) for every run of every listed job, oldest first: `ok`
        when the run finished, `in_progress` for one that started but is still running."""
        runs: list[tuple[str, str, datetime, float]] = []
        for job in self.jobs:
            slug = slug_for(job.worker, job.cron)
            since = now - timedelta(hours=job.hours or self.hours)
            for fire in CronSim(job.cron, since.astimezone(UTC)):
                started = fire + timedelta(seconds=1)
                finished = started + timedelta(seconds=job.duration_seconds)
                if started > now:
                    break
                if finished > now:
                    runs.append((slug, "in_progress", started, 0.0))
                    break
                runs.append((slug, "ok", finished, job.duration_seconds))
        return sorted(runs, key=lambda run: run[2])

    def since(self, slug: str, now: datetime) -> datetime:
        """Since when the monitor `slug` has been watched."""
        hours = {slug_for(job.worker, job.cron): job.hours for job in self.jobs}.get(slug)
        return now - timedelta(hours=hours or self.hours)


def _job(path: Path, index: int, raw: object) -> HistoryJob:
    where = f"{path}: jobs[{index}]"
    if not isinstance(raw, Mapping):
        raise HistoryError(f"{where}: expected a mapping with worker, cron and duration_seconds")
    worker, cron = raw.get("worker"), raw.get("cron")
    if not isinstance(worker, str) or not worker:
        raise HistoryError(f"{where}.worker: expected a worker name")
    if not isinstance(cron, str) or len(cron.split()) != 5:
        raise HistoryError(f"{where}.cron: expected a five-field cron expression, got {cron!r}")
    duration = raw.get("duration_seconds", 1)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0:
        raise HistoryError(f"{where}.duration_seconds: expected seconds, got {duration!r}")
    hours = raw.get("hours")
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 744
    ):
        raise HistoryError(f"{where}.hours: expected a number of hours up to 744, got {hours!r}")
    return HistoryJob(worker, cron, float(duration), None if hours is None else float(hours))


def replay(history: History, client: OpsMonitorClient, now: datetime) -> int:
    """Send the history's check-ins (each run as one finished check-in with its duration and
    time); returns how many were sent."""
    runs = history.checkins(now)
    for slug, status, at, duration in runs:
        if status == "ok":
            client.check_in(slug, status, duration=duration, timestamp=at)
        else:
            client.check_in(slug, status, timestamp=at)
    return len(runs)


# ---------------------------------------------------------------- judging


@dataclass(frozen=True)
class CronVerdict:
    trigger: CronTrigger
    slug: str | None
    ok: bool
    summary: str


def judge(
    found: Iterable[CronTrigger], monitors: Iterable[CronMonitor], window_hours: float
) -> list[CronVerdict]:
    """Every trigger must have a monitor that is `ok` with no missed, failed or timed-out run
    within the window. `late` after an ok run is still ok: the next run is inside its margin."""
    by_slug = {monitor.slug: monitor for monitor in monitors}
    verdicts: list[CronVerdict] = []
    for trigger in found:
        where = f"{trigger.worker} '{trigger.cron}' ({trigger.config_path}:{trigger.line})"
        if trigger.problem is not None:
            verdicts.append(
                CronVerdict(trigger, None, False, f"{where}: invalid cron, cannot be monitored")
            )
            continue
        slug = slug_for(trigger.worker, trigger.cron)
        monitor = by_slug.get(slug)
        if monitor is None:
            summary = f"{where}: no monitor `{slug}` (run `readiness monitors sync`)"
            verdicts.append(CronVerdict(trigger, slug, False, summary))
            continue
        bad = {status: monitor.counts.get(status, 0) for status in FAILING}
        bad = {status: count for status, count in bad.items() if count}
        counted = ", ".join(f"{count} {status}" for status, count in bad.items())
        window = f"{window_hours:g} h"
        if monitor.state == "new":
            summary = f"{where}: monitor `{slug}` never checked in"
        elif monitor.state != "ok" and not (
            monitor.state == "late" and monitor.last_outcome == "ok"
        ):
            summary = f"{where}: monitor `{slug}` is {monitor.state}" + (
                f" ({counted} in the last {window})" if counted else ""
            )
        elif bad:
            summary = f"{where}: monitor `{slug}` is ok now but had {counted} in the last {window}"
        else:
            runs = monitor.counts.get("ok", 0)
            verdicts.append(
                CronVerdict(trigger, slug, True, f"{where}: ok, {runs} run(s) in the last {window}")
            )
            continue
        verdicts.append(CronVerdict(trigger, slug, False, summary))
    return verdicts
