"""The `monitor` gate: is operations monitoring alive? Asked of a running monitor, via its client.

Three questions, each answered with evidence: did a full scan succeed recently (a dead scheduler
shows up here first), are there open critical issues, and is any cron late. With `cron_monitors`,
a fourth: is every cron trigger of the repository monitored, `ok`, with no missed, failed or
timed-out run in the window. With `launch`, the gate first starts a throwaway monitor, feeds it
the given logs (and a cron check-in history) and runs a full scan.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ops_monitor.client import (
    MonitorBusy,
    MonitorClientError,
    MonitorError,
    OpsMonitorClient,
    Scan,
)
from readiness import cron_monitors
from readiness.gates.monitor_launch import LaunchError, launched_monitor
from readiness.gates.result import GateContext, GateResult, Status, truncate
from readiness.plan import CronMonitorsRequirement, MonitorGate

URL_ENV = "READINESS_MONITOR_URL"
BUSY_RETRIES = 150  # 0.2 s apart: a catch-up scan of a fresh monitor takes seconds at most


def evaluate(spec: MonitorGate, context: GateContext) -> GateResult:
    token = context.env.get(spec.token_env) or None
    if spec.launch is not None:
        try:
            with (
                launched_monitor(spec.launch, context.root, context.env, token) as launched,
                OpsMonitorClient(launched.url, token=token, timeout=30) as client,
            ):
                scan = _full_scan(client)
                notes = [
                    *launched.notes,
                    f"ran full scan #{scan.id}: {scan.status}, "
                    f"{scan.logs_processed} logs, {scan.issues_filed} issue(s) filed",
                ]
                return _judge(spec, context, client, notes)
        except LaunchError as error:
            return GateResult("monitor", Status.ERROR, f"could not launch a monitor: {error}")
        except MonitorClientError as error:
            return GateResult("monitor", Status.ERROR, f"launched monitor: {error}")
    url = spec.url or context.env.get(URL_ENV)
    if not url:
        summary = f"no monitor configured (set `url` or {URL_ENV})"
        status = Status.ERROR if spec.missing_url == "error" else Status.NOT_APPLICABLE
        return GateResult("monitor", status, summary)
    try:
        with OpsMonitorClient(url, token=token) as client:
            return _judge(spec, context, client, [f"monitor at {url}"])
    except MonitorClientError as error:
        return GateResult("monitor", Status.ERROR, f"monitor at {url}: {error}")


def _full_scan(client: OpsMonitorClient) -> Scan:
    """Run a full scan; the monitor's own scheduler may be catching up, so wait for it."""
    for _ in range(BUSY_RETRIES):
        try:
            return client.scan("full")
        except MonitorBusy:
            time.sleep(0.2)
    return client.scan("full")


def _judge(
    spec: MonitorGate, context: GateContext, client: OpsMonitorClient, notes: list[str]
) -> GateResult:
    now = context.now()
    problems: list[str] = []
    lines = list(notes)

    scans = client.recent_scans(limit=50)
    full = [s for s in scans if s.scope == "full" and s.status == "completed"]
    last = max(full, key=lambda s: s.finished_at or s.started_at, default=None)
    if last is None:
        problems.append("no successful full scan")
        lines.append(f"no completed full scan among the last {len(scans)} scans")
    else:
        finished = _aware(last.finished_at or last.started_at)
        age = now - finished
        lines.append(
            f"last full scan #{last.id} finished {finished.isoformat()} "
            f"({age / timedelta(hours=1):.1f} h ago)"
        )
        if age > timedelta(hours=spec.max_age_hours):
            problems.append(
                f"last full scan is {age / timedelta(hours=1):.1f} h old "
                f"(limit {spec.max_age_hours:g} h)"
            )

    critical = [
        i for i in client.open_issues(limit=200, severity="critical") if i.status != "resolved"
    ]
    lines.append(f"open critical issues: {len(critical)}")
    lines += [f"  #{i.id} {i.title} ({i.source}, {i.occurrences}x)" for i in critical[:20]]
    if critical and not spec.allow_open_critical:
        problems.append(f"{len(critical)} open critical issue(s)")

    late: list[str] = []
    if spec.check_crons:
        try:
            schedules = client.cron_status()
        except MonitorError as error:
            if error.status != 404:
                raise
            lines.append("cron status: not offered by this monitor")
        else:
            for cron in schedules:
                lines.append(
                    f"cron {cron.name} ({cron.expression}): last {cron.last_outcome}, "
                    f"next {cron.next_run}, {'LATE' if cron.late else 'on time'}"
                )
            late = [c.name for c in schedules if c.late]
    if late:
        problems.append(f"late cron(s): {', '.join(late)}")

    details: dict[str, object] = {
        "last_full_scan": last.id if last else None,
        "open_critical": [i.id for i in critical],
        "late_crons": late,
    }
    if spec.cron_monitors is not None:
        verdicts = _cron_monitors(spec.cron_monitors, context, client)
        lines.append(f"cron triggers in the Wrangler configs: {len(verdicts)}")
        lines += [f"  {'ok  ' if v.ok else 'FAIL'} {v.summary}" for v in verdicts]
        failing = [v for v in verdicts if not v.ok]
        if failing:
            named = ", ".join(f"{v.trigger.worker} '{v.trigger.cron}'" for v in failing)
            problems.append(f"cron(s) not monitored healthy: {named}")
        details["cron_monitors"] = [
            {"worker": v.trigger.worker, "cron": v.trigger.cron, "monitor": v.slug, "ok": v.ok}
            for v in verdicts
        ]
    evidence = truncate("\n".join(lines))
    if problems:
        return GateResult("monitor", Status.FAIL, "; ".join(problems), evidence, details)
    summary = "full scan fresh" + (
        f", {len(critical)} critical issue(s) allowed" if critical else ", no open critical issues"
    )
    return GateResult("monitor", Status.PASS, summary, evidence, details)


def _cron_monitors(
    requirement: CronMonitorsRequirement, context: GateContext, client: OpsMonitorClient
) -> list[cron_monitors.CronVerdict]:
    """Each cron trigger of the repository, judged by its monitor over the window."""
    found = cron_monitors.triggers(context.root / requirement.path)
    monitors = client.monitors(window_hours=requirement.window_hours)
    return cron_monitors.judge(found, monitors, requirement.window_hours)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
