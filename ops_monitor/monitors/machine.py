"""Every rule of a cron monitor, as pure functions of a monitor, its open runs and a moment.

States: `new` (no outcome yet), `ok`, `late` (waiting for a check-in, past `start_grace` but
inside `checkin_margin`), `missed`, `timed_out` (in progress beyond `max_runtime`), `error`,
`paused`, and `unknown`: the monitor itself was not running while a check-in was expected, so it
cannot tell whether the job ran (its ping may have been lost). An evaluation that finds more than
`outage_after` since the previous one treats the time between as such an outage; expected runs
whose check-in window overlaps it are recorded as one `unknown` row, never as `missed`.

Runs are tracked by check-in id, so overlapping runs of one job are told apart: a finishing
check-in closes the run with its id, or without an id the latest run still in progress.
Consecutive failures (missed, error, timed out) reaching `failure_issue_threshold` open an
incident: that failure and every later one until recovery are filed as issues, one per kind;
`recovery_threshold` consecutive successes resolve them. `unknown` counts as neither.

Nothing here reads a clock or a database: the caller passes the moment and stores the `Step`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ops_monitor.monitors.config import MonitorConfig
from ops_monitor.monitors.schedule import IntervalSchedule

NEW, OK, LATE, MISSED, TIMED_OUT, ERROR, PAUSED, UNKNOWN = (
    "new",
    "ok",
    "late",
    "missed",
    "timed_out",
    "error",
    "paused",
    "unknown",
)
STATES = (NEW, OK, LATE, MISSED, TIMED_OUT, ERROR, PAUSED, UNKNOWN)
IN_PROGRESS = "in_progress"
SIGNALS = (IN_PROGRESS, OK, ERROR)
RUN_STATUSES = (IN_PROGRESS, OK, ERROR, MISSED, TIMED_OUT, UNKNOWN)
FAILURE_KINDS = {MISSED: "cron-missed", ERROR: "cron-failed", TIMED_OUT: "cron-timeout"}

DEFAULT_OUTAGE_AFTER = timedelta(seconds=90)  # three evaluations (every 30 s) in a row missed
MAX_MISSED_ROWS = 100  # per evaluation; more missed runs than that are folded into one row
MAX_SLOTS = 10_000  # expected runs walked per evaluation (a minutely job, a week)


@dataclass(frozen=True)
class Monitor:
    """A monitor's configuration and everything its evaluation remembers."""

    slug: str
    config: MonitorConfig
    state: str
    state_since: datetime
    evaluated_at: datetime
    next_expected: datetime | None
    last_outcome: str | None = None
    paused: bool = False
    last_checkin_at: datetime | None = None
    consecutive_failures: int = 0
    consecutive_ok: int = 0
    incident: bool = False


@dataclass(frozen=True)
class Run:
    """One check-in row: a run (in progress or finished) or an expected run that did not come."""

    checkin_id: str
    status: str
    at: datetime  # when the status was last set: the start, the finish, the missed deadline
    slot: datetime | None = None  # the expected time it answers, when it answers one
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None  # seconds
    slots: int = 1  # how many expected runs this row stands for (folded missed, an outage)
    origin: str = "api"
    exit_status: int | None = None
    excerpt: str | None = None


@dataclass(frozen=True)
class Signal:
    """A check-in as it arrived: Sentry's statuses, a ping translated to them."""

    status: str
    at: datetime
    checkin_id: str | None = None
    duration: float | None = None
    origin: str = "api"
    exit_status: int | None = None
    excerpt: str | None = None


@dataclass(frozen=True)
class Failure:
    """A failure to file as an issue (the monitor is in an incident)."""

    kind: str  # cron-missed, cron-failed, cron-timeout
    at: datetime
    occurrences: int
    detail: str


@dataclass
class Step:
    """What one evaluation or check-in decided; the store applies it in one transaction."""

    monitor: Monitor
    runs: list[Run] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    resolved: bool = False
    transition: tuple[str, str] | None = None
    checkin_id: str | None = None


def create(
    slug: str, config: MonitorConfig, now: datetime, *, since: datetime | None = None
) -> Monitor:
    """A new monitor expecting its first run after `since` (default: now). A `since` in the past
    (an imported history) states that the check-ins recorded since then are complete."""
    start = since if since is not None else now
    return Monitor(
        slug=slug,
        config=config,
        state=NEW,
        state_since=now,
        evaluated_at=now,
        next_expected=config.schedule.next_after(start),
    )


def reconfigure(monitor: Monitor, config: MonitorConfig, now: datetime) -> Monitor:
    """New settings; a new schedule expects its next run from now on."""
    if config.schedule == monitor.config.schedule:
        return replace(monitor, config=config)
    return replace(monitor, config=config, next_expected=config.schedule.next_after(now))


def pause(monitor: Monitor, now: datetime) -> Step:
    step = Step(replace(monitor, paused=True))
    _settle(step, now, monitor.state)
    return step


def resume(monitor: Monitor, now: datetime) -> Step:
    """Back to watching from now on: the runs expected while paused are not missed."""
    resumed = replace(
        monitor,
        paused=False,
        evaluated_at=max(monitor.evaluated_at, now),
        next_expected=monitor.config.schedule.next_after(now),
    )
    step = Step(resumed)
    _settle(step, now, monitor.state)
    return step


def evaluate(
    monitor: Monitor,
    open_runs: Sequence[Run],
    now: datetime,
    *,
    outage_after: timedelta = DEFAULT_OUTAGE_AFTER,
) -> Step:
    """Time out runs, record missed (or unknown) expected runs, and settle the state at `now`."""
    step = Step(monitor)
    if monitor.paused:
        step.monitor = replace(monitor, evaluated_at=max(monitor.evaluated_at, now))
    else:
        _catch_up(step, open_runs, now, outage_after)
    _settle(step, now, monitor.state)
    return step


def check_in(
    monitor: Monitor,
    open_runs: Sequence[Run],
    matched: Run | None,
    signal: Signal,
    new_id: str,
    *,
    outage_after: timedelta = DEFAULT_OUTAGE_AFTER,
) -> Step:
    """Apply one check-in. `matched` is the stored run with the signal's check-in id, if any;
    `new_id` names the run when the signal starts one without an id."""
    before = monitor.state
    step = Step(monitor)
    at = signal.at
    if not monitor.paused:
        _catch_up(step, open_runs, at, outage_after)
    timed_out = {run.checkin_id: run for run in step.runs if run.status in (TIMED_OUT, UNKNOWN)}
    still_open = [run for run in open_runs if run.checkin_id not in timed_out]
    if matched is not None:
        matched = timed_out.get(matched.checkin_id, matched)
    last = step.monitor.last_checkin_at
    step.monitor = replace(step.monitor, last_checkin_at=at if last is None else max(last, at))
    if signal.status == IN_PROGRESS:
        run = matched if matched is not None else _start(step, signal, new_id)
    else:
        target = matched
        if target is None and signal.checkin_id is None and still_open:
            target = max(still_open, key=lambda run: run.started_at or run.at)
        run = _finish(step, signal, target, signal.checkin_id or new_id)
    if run is not matched:
        step.runs.append(run)
    step.checkin_id = run.checkin_id
    _settle(step, max(at, step.monitor.evaluated_at), before)
    return step


def seconds_late(monitor: Monitor, now: datetime) -> float:
    """How long past its expected time the next run is (0 while not yet due or paused)."""
    if monitor.paused or monitor.next_expected is None or now <= monitor.next_expected:
        return 0.0
    return (now - monitor.next_expected).total_seconds()


# ---------------------------------------------------------------- the rules


def _start(step: Step, signal: Signal, new_id: str) -> Run:
    slot = _advance(step, signal.at)
    return Run(
        checkin_id=signal.checkin_id or new_id,
        status=IN_PROGRESS,
        at=signal.at,
        slot=slot,
        started_at=signal.at,
        origin=signal.origin,
        exit_status=signal.exit_status,
        excerpt=signal.excerpt,
    )


def _finish(step: Step, signal: Signal, target: Run | None, new_id: str) -> Run:
    at = signal.at
    if target is not None and target.status != IN_PROGRESS:
        # A run already timed out (or finished): note its end, its outcome stands.
        if target.finished_at is not None:
            return target
        started = target.started_at or at
        return replace(
            target,
            finished_at=at,
            duration=_duration(signal, started),
            exit_status=signal.exit_status,
            excerpt=signal.excerpt or target.excerpt,
        )
    if target is not None:
        run = replace(
            target,
            status=signal.status,
            at=at,
            finished_at=at,
            duration=_duration(signal, target.started_at or at),
            exit_status=signal.exit_status,
            excerpt=signal.excerpt or target.excerpt,
        )
    else:
        slot = _advance(step, at)
        began = None if signal.duration is None else at - timedelta(seconds=signal.duration)
        run = Run(
            checkin_id=new_id,
            status=signal.status,
            at=at,
            slot=slot,
            started_at=began,
            finished_at=at,
            duration=signal.duration,
            origin=signal.origin,
            exit_status=signal.exit_status,
            excerpt=signal.excerpt,
        )
    if not step.monitor.paused:
        if signal.status == OK:
            _succeed(step)
        else:
            _fail(step, ERROR, at, 1, _failed_detail(step.monitor.slug, run))
        step.monitor = replace(step.monitor, last_outcome=signal.status)
    return run


def _duration(signal: Signal, started: datetime) -> float:
    if signal.duration is not None:
        return signal.duration
    return max(0.0, (signal.at - started).total_seconds())


def _advance(step: Step, at: datetime) -> datetime | None:
    """A run started (or reported) at `at`: the expected run it answers, and the next one."""
    monitor = step.monitor
    config = monitor.config
    expected = monitor.next_expected
    if isinstance(config.schedule, IntervalSchedule):
        following = config.schedule.next_after(at)
        if expected is not None and following < expected:
            following = expected  # an imported check-in older than the latest one
        step.monitor = replace(monitor, next_expected=following)
        return expected if expected is not None and at >= expected - config.checkin_margin else None
    if expected is None:
        step.monitor = replace(monitor, next_expected=config.schedule.next_after(at))
        return None
    if at < expected - config.checkin_margin:
        return None  # an extra run (by hand, a retry): the expected one is still to come
    step.monitor = replace(monitor, next_expected=config.schedule.next_after(max(at, expected)))
    return expected


def _catch_up(
    step: Step, open_runs: Sequence[Run], until: datetime, outage_after: timedelta
) -> None:
    monitor = step.monitor
    config = monitor.config
    outage_from = monitor.evaluated_at if until - monitor.evaluated_at > outage_after else None
    events: list[Run] = []
    for run in open_runs:
        if run.status != IN_PROGRESS:
            continue
        deadline = (run.started_at or run.at) + config.max_runtime
        if deadline < until:
            lost = outage_from is not None and deadline > outage_from
            events.append(replace(run, status=UNKNOWN if lost else TIMED_OUT, at=deadline))
    missed: list[datetime] = []
    unknown: list[datetime] = []
    slot = monitor.next_expected
    walked = 0
    while slot is not None and slot + config.checkin_margin < until:
        if walked >= MAX_SLOTS:  # skip ahead; the folded rows say "at least"
            slot = config.schedule.next_after(until - config.checkin_margin)
            break
        deadline = slot + config.checkin_margin
        (unknown if outage_from is not None and deadline > outage_from else missed).append(slot)
        slot = config.schedule.next_after(slot)
        walked += 1
    events += _missed_rows(missed, config)
    if unknown:
        events.append(
            Run(
                checkin_id=f"unknown-{_iso(unknown[0])}",
                status=UNKNOWN,
                at=until,
                slot=unknown[0],
                slots=len(unknown),
                origin="monitor",
                excerpt=(
                    f"the monitor was not running from {_iso(outage_from)} to {_iso(until)}: "
                    f"{len(unknown)} expected run(s) from {_iso(unknown[0])} not observed"
                ),
            )
        )
    step.monitor = replace(
        monitor, next_expected=slot, evaluated_at=max(monitor.evaluated_at, until)
    )
    for event in sorted(events, key=lambda run: run.at):
        step.runs.append(event)
        if event.status == UNKNOWN:
            step.monitor = replace(step.monitor, last_outcome=UNKNOWN)
            continue
        detail = (
            _timeout_detail(monitor.slug, event, config.max_runtime)
            if event.status == TIMED_OUT
            else _missed_detail(monitor.slug, event, config.checkin_margin)
        )
        _fail(step, event.status, event.at, event.slots, detail)
        step.monitor = replace(step.monitor, last_outcome=event.status)


def _missed_rows(slots: list[datetime], config: MonitorConfig) -> list[Run]:
    margin = config.checkin_margin
    rows = [
        Run(f"missed-{_iso(slot)}", MISSED, slot + margin, slot=slot, origin="monitor")
        for slot in slots[:MAX_MISSED_ROWS]
    ]
    rest = slots[MAX_MISSED_ROWS:]
    if rest:
        rows.append(
            Run(
                f"missed-{_iso(rest[0])}",
                MISSED,
                rest[-1] + margin,
                slot=rest[0],
                slots=len(rest),
                origin="monitor",
                excerpt=f"{len(rest)} expected runs from {_iso(rest[0])} to {_iso(rest[-1])}",
            )
        )
    return rows


def _fail(step: Step, status: str, at: datetime, count: int, detail: str) -> None:
    monitor = step.monitor
    failures = monitor.consecutive_failures + count
    threshold = monitor.config.failure_issue_threshold
    incident = monitor.incident or failures >= threshold
    if incident:
        occurrences = count if monitor.incident else failures
        step.failures.append(Failure(FAILURE_KINDS[status], at, occurrences, detail))
    step.monitor = replace(
        monitor, consecutive_failures=failures, consecutive_ok=0, incident=incident
    )


def _succeed(step: Step) -> None:
    monitor = step.monitor
    successes = monitor.consecutive_ok + 1
    recovered = monitor.incident and successes >= monitor.config.recovery_threshold
    step.resolved = step.resolved or recovered
    step.monitor = replace(
        monitor,
        consecutive_ok=successes,
        consecutive_failures=0,
        incident=monitor.incident and not recovered,
    )


def _settle(step: Step, now: datetime, before: str) -> None:
    monitor = step.monitor
    if monitor.paused:
        state = PAUSED
    else:
        state = monitor.last_outcome or NEW
        expected = monitor.next_expected
        waiting = expected is not None and (
            expected + monitor.config.late_after < now <= expected + monitor.config.checkin_margin
        )
        if waiting and state in (NEW, OK, UNKNOWN):
            state = LATE
    if state != before:
        step.transition = (before, state)
        step.monitor = replace(monitor, state=state, state_since=now)
    elif state != monitor.state:
        step.monitor = replace(monitor, state=state)


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _missed_detail(slug: str, run: Run, margin: timedelta) -> str:
    many = f" ({run.slots} expected runs)" if run.slots > 1 else ""
    return (
        f"{slug}: no check-in for the run expected at {_iso(run.slot)}{many} "
        f"within the {_minutes(margin)} min margin"
    )


def _timeout_detail(slug: str, run: Run, limit: timedelta) -> str:
    return (
        f"{slug}: run {run.checkin_id} started at {_iso(run.started_at)} was still in progress "
        f"after max_runtime ({_minutes(limit)} min)"
    )


def _failed_detail(slug: str, run: Run) -> str:
    code = f" with exit status {run.exit_status}" if run.exit_status is not None else ""
    return f"{slug}: run {run.checkin_id} reported an error{code} at {_iso(run.at)}"


def _minutes(delta: timedelta) -> str:
    return f"{delta / timedelta(minutes=1):g}"
