"""Runbooks rendered from the configuration the monitor actually runs with.

A runbook copied by hand drifts from the service the day someone changes a cron expression. So the
facts (schedules, routes, metric names) come from `ops-monitor config --json`, run as a subprocess
because `readiness` may not import the monitor, and the rule sections come from each rule's own
docs. Rendering is a pure function of those facts with no timestamps, so `--check` can compare the
committed files byte for byte and show a unified diff when one is stale.

Jinja2, cronsim and PyYAML are imported where they are used: this module is imported by the
`readiness` command group, and `readiness check` in a pre-commit hook must not pay for them.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from checks.cli_support import UserError
from readiness.report_files import write_all_atomically

if TYPE_CHECKING:
    import jinja2

RUNBOOK_TEMPLATES = ("cron-monitoring.md", "ops-monitor.md", "checks.md")
CONFIG_TIMEOUT_SECONDS = 60.0

# Cron expressions are expanded over a fixed reference window, never "now", so the same
# configuration always renders the same text. 2024-01-01 is a Monday; a leap year covers Feb 29.
REFERENCE_START = datetime(2024, 1, 1, tzinfo=UTC)
REFERENCE_WINDOW = timedelta(days=366)
MAX_FIRINGS = 5000
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class RunbookConfigError(UserError):
    """The monitor configuration could not be read or does not have the expected shape (exit 2)."""


# ---------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Schedule:
    """One cron schedule with what its expression means over the reference window."""

    name: str
    expression: str
    scope: str
    firings: tuple[datetime, ...]

    @property
    def runs_per_week(self) -> int:
        week_end = REFERENCE_START + timedelta(days=7)
        return sum(1 for moment in self.firings if moment < week_end)

    @property
    def longest_gap(self) -> timedelta | None:
        """The longest wait between two runs: a run is late only once this much time has passed."""
        if len(self.firings) < 2:
            return None
        return max(later - earlier for earlier, later in pairwise(self.firings))

    @property
    def daily_times(self) -> tuple[str, ...] | None:
        """The times of day it fires when every day of the reference week looks the same."""
        per_day: list[tuple[str, ...]] = []
        for day in range(7):
            start = REFERENCE_START + timedelta(days=day)
            end = start + timedelta(days=1)
            per_day.append(tuple(f"{m:%H:%M}" for m in self.firings if start <= m < end))
        if per_day[0] and all(times == per_day[0] for times in per_day):
            return per_day[0]
        return None

    @property
    def first_firings(self) -> tuple[str, ...]:
        return tuple(f"{WEEKDAYS[m.weekday()]} {m:%Y-%m-%d %H:%M}" for m in self.firings[:8])


@dataclass(frozen=True)
class Collision:
    """A minute that matches several schedules; the scheduler runs only the widest scope."""

    minute: str
    schedules: tuple[str, ...]
    runs: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str = ""


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str = ""
    help: str = ""


@dataclass(frozen=True)
class MonitorFacts:
    """What the runbooks say about the monitor, parsed from `ops-monitor config --json`."""

    schedules: tuple[Schedule, ...]
    routes: tuple[Route, ...]
    metrics: tuple[Metric, ...]
    database: str
    retention_days: int | None
    host: str
    port: int
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def collisions(self) -> tuple[Collision, ...]:
        return find_collisions(self.schedules)

    def route(self, path: str) -> Route | None:
        return next((route for route in self.routes if route.path == path), None)

    def schedule_for(self, scope: str) -> Schedule | None:
        return next((s for s in self.schedules if s.scope == scope), None)


@dataclass(frozen=True)
class RuleDoc:
    id: str
    title: str
    severity: str
    docs: str


@dataclass(frozen=True)
class Adoption:
    """How a repository adopts the checks: the pre-commit hooks and the action this one ships."""

    hooks: tuple[Mapping[str, Any], ...]
    action_inputs: tuple[tuple[str, str], ...]


# ---------------------------------------------------------------------------- reading


def read_monitor_config(
    cwd: Path, env: Mapping[str, str] | None = None, python: str = sys.executable
) -> dict[str, Any]:
    """Run `python -m ops_monitor config --json` the way the service would load its settings."""
    argv = [python, "-m", "ops_monitor", "config", "--json"]
    try:
        completed = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            capture_output=True,
            text=True,
            timeout=CONFIG_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RunbookConfigError(f"could not run 'ops-monitor config --json': {error}") from error
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()
        reason = detail[-1] if detail else f"exit status {completed.returncode}"
        raise RunbookConfigError(f"'ops-monitor config --json' failed: {reason}")
    try:
        data = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise RunbookConfigError(
            f"'ops-monitor config --json' printed invalid JSON: {error.msg} at line {error.lineno}"
        ) from error
    if not isinstance(data, dict):
        raise RunbookConfigError("'ops-monitor config --json' must print a JSON object")
    return data


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise RunbookConfigError(f"monitor configuration: missing field '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RunbookConfigError(f"monitor configuration: field '{key}' has the wrong type")
    return value


def parse_monitor_facts(data: Mapping[str, Any]) -> MonitorFacts:
    """Turn the monitor's JSON configuration into facts; a missing field is a one-line error."""
    raw_schedules = _require(data, "schedules", dict)
    scopes = data.get("schedule_scopes", {})
    if not isinstance(scopes, dict):
        raise RunbookConfigError(
            "monitor configuration: field 'schedule_scopes' has the wrong type"
        )
    schedules = tuple(
        expand_schedule(str(name), {"cron": value, "scope": scopes[name]})
        if isinstance(value, str) and name in scopes
        else expand_schedule(str(name), value)
        for name, value in sorted(raw_schedules.items())
    )
    routes = tuple(
        sorted((_parse_route(item) for item in _require(data, "routes", list)), key=_route_key)
    )
    metrics = tuple(
        sorted((_parse_metric(item) for item in _require(data, "metrics", list)), key=_metric_key)
    )
    retention = data.get("retention_days")
    return MonitorFacts(
        schedules=schedules,
        routes=routes,
        metrics=metrics,
        database=describe_database(str(data.get("db_url", ""))),
        retention_days=retention if isinstance(retention, int) else None,
        host=str(data.get("host", "127.0.0.1")),
        port=int(data.get("port", 8787)),
        settings=data,
    )


def _route_key(route: Route) -> tuple[str, str]:
    return (route.path, route.method)


def _metric_key(metric: Metric) -> str:
    return metric.name


def _parse_route(item: Any) -> Route:
    if isinstance(item, str):
        method, _, path = item.partition(" ")
        return Route(method=method.upper(), path=path.strip() or method)
    if isinstance(item, Mapping) and "path" in item:
        methods = item.get("methods") or [item.get("method", "GET")]
        method = ",".join(str(m).upper() for m in methods) if isinstance(methods, list) else "GET"
        return Route(method=method, path=str(item["path"]), summary=str(item.get("summary", "")))
    raise RunbookConfigError(f"monitor configuration: route {item!r} has no 'path'")


def _parse_metric(item: Any) -> Metric:
    if isinstance(item, str):
        return Metric(name=item)
    if isinstance(item, Mapping) and "name" in item:
        return Metric(
            name=str(item["name"]),
            kind=str(item.get("type", item.get("kind", ""))),
            help=str(item.get("help", item.get("documentation", ""))),
        )
    raise RunbookConfigError(f"monitor configuration: metric {item!r} has no 'name'")


def expand_schedule(name: str, value: Any) -> Schedule:
    """A schedule is `name: "cron"` or `name: {cron, scope}`; by default the name is the scope."""
    from cronsim import CronSim, CronSimError

    if isinstance(value, Mapping):
        expression = value.get("cron", value.get("expression"))
        scope = value.get("scope", name)
    else:
        expression, scope = value, name
    if not isinstance(expression, str):
        raise RunbookConfigError(f"monitor configuration: schedule '{name}' has no cron expression")
    try:
        iterator = CronSim(expression, REFERENCE_START - timedelta(minutes=1))
    except CronSimError as error:
        raise RunbookConfigError(
            f"monitor configuration: schedule '{name}': invalid cron '{expression}': {error}"
        ) from error
    end = REFERENCE_START + REFERENCE_WINDOW
    firings: list[datetime] = []
    for moment in iterator:
        if moment >= end or len(firings) >= MAX_FIRINGS:
            break
        firings.append(moment)
    return Schedule(name=name, expression=expression, scope=str(scope), firings=tuple(firings))


def find_collisions(schedules: Sequence[Schedule]) -> tuple[Collision, ...]:
    """Minutes of the reference week that fire more than one schedule, and which one runs."""
    week_end = REFERENCE_START + timedelta(days=7)
    by_minute: dict[datetime, list[Schedule]] = {}
    for schedule in schedules:
        for moment in schedule.firings:
            if moment < week_end:
                by_minute.setdefault(moment, []).append(schedule)
    collisions: dict[tuple[str, tuple[str, ...]], set[int]] = {}
    for moment, fired in sorted(by_minute.items()):
        if len(fired) > 1:
            key = (f"{moment:%H:%M}", tuple(s.name for s in fired))
            collisions.setdefault(key, set()).add(moment.weekday())
    result = []
    for (minute, names), days in collisions.items():
        when = "every day" if len(days) == 7 else ", ".join(WEEKDAYS[d] for d in sorted(days))
        fired = [s for s in schedules if s.name in names]
        winner = next((s for s in fired if s.scope == "full"), fired[0])
        result.append(Collision(minute=f"{minute} UTC, {when}", schedules=names, runs=winner.name))
    return tuple(result)


def describe_database(url: str) -> str:
    """Name the store without machine-specific paths or passwords, so the text is portable."""
    if not url:
        return "not configured"
    parts = urlsplit(url)
    kind = parts.scheme.split("+", 1)[0]
    if kind == "sqlite":
        name = Path(parts.path.lstrip("/")).name if parts.path.strip("/") else ":memory:"
        return f"SQLite file `{name}`"
    if kind.startswith("postgres"):
        return f"PostgreSQL database `{parts.path.lstrip('/') or 'postgres'}`"
    return f"`{kind}` database"


def load_rules() -> tuple[RuleDoc, ...]:
    """Each rule's documentation, as `readiness check --explain` shows it."""
    from checks import registry  # the engine may be absent in a partial install

    return tuple(
        RuleDoc(
            id=rule.id,
            title=rule.title,
            severity=str(getattr(rule.severity, "value", rule.severity)),
            docs=rule.docs,
        )
        for rule in sorted(registry.rules(), key=lambda rule: str(rule.id))
    )


def load_adoption(root: Path) -> Adoption:
    """Read the hook and action definitions at `root`, if this repository ships them."""
    import yaml

    hooks: tuple[Mapping[str, Any], ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    hooks_file = root / ".pre-commit-hooks.yaml"
    action_file = root / "action.yml"
    try:
        if hooks_file.is_file():
            loaded = yaml.safe_load(hooks_file.read_text(encoding="utf-8")) or []
            hooks = tuple(hook for hook in loaded if isinstance(hook, Mapping) and "id" in hook)
        if action_file.is_file():
            action = yaml.safe_load(action_file.read_text(encoding="utf-8")) or {}
            declared = action.get("inputs") or {}
            inputs = tuple(
                (str(name), " ".join(str((spec or {}).get("description", "")).split()))
                for name, spec in declared.items()
            )
    except (yaml.YAMLError, AttributeError, TypeError) as error:
        raise RunbookConfigError(f"{hooks_file.name} or {action_file.name}: {error}") from error
    return Adoption(hooks=hooks, action_inputs=inputs)


# ---------------------------------------------------------------------------- rendering


_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})(\s)")


def nest_headings(markdown: str, level: int) -> str:
    """Shift Markdown headings so the highest one sits at `level`, nesting docs under a section."""
    lines = markdown.splitlines()
    headings, in_fence = [], False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.match(line)):
            headings.append((index, len(match.group(1))))
    if not headings:
        return markdown
    shift = level - min(depth for _, depth in headings)
    for index, depth in headings:
        lines[index] = "#" * max(1, min(6, depth + shift)) + lines[index][depth:]
    return "\n".join(lines)


def docs_body(docs: str) -> str:
    """A rule's docs without their first line, which is the title the runbook already shows."""
    _, _, rest = docs.strip().partition("\n")
    return rest.strip()


def table_cell(value: object) -> str:
    """One Markdown table cell: a single line, with pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def format_number(value: object) -> str:
    """`5.0` as `5`, `1000.0` as `1,000`: settings read as people write them."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_hours(value: object) -> str:
    return f"{format_number(value)} h"


def format_size(value: object) -> str:
    """Bytes as the largest binary unit that divides them evenly, e.g. `10 MiB`."""
    if not isinstance(value, int):
        return str(value)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{format_number(value)} bytes"


def overdue_seconds(gap: timedelta | None) -> str:
    """An alert threshold: the longest gap between runs plus an hour of slack, in seconds."""
    slack = timedelta(hours=1)
    return str(int(((gap or timedelta(days=366)) + slack).total_seconds()))


def format_gap(gap: timedelta | None) -> str:
    if gap is None:
        return "runs at most once a year"
    hours, seconds = divmod(int(gap.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{seconds // 60} min"]
    return " ".join(part for part in parts if part and part != "0 min") or "0 min"


def template_environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("readiness", "templates/runbooks"),
        autoescape=False,  # noqa: S701 - Markdown for people and git, never served as HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["nest_headings"] = nest_headings
    environment.filters["docs_body"] = docs_body
    environment.filters["gap"] = format_gap
    environment.filters["overdue_seconds"] = overdue_seconds
    environment.filters["cell"] = table_cell
    environment.filters["number"] = format_number
    environment.filters["hours"] = format_hours
    environment.filters["size"] = format_size
    return environment


def render_runbooks(
    monitor: MonitorFacts, rules: Sequence[RuleDoc], adoption: Adoption
) -> dict[str, str]:
    """Render every runbook; the result maps file names to text and depends only on the inputs."""
    environment = template_environment()
    context = {"monitor": monitor, "rules": rules, "adoption": adoption}
    rendered = {}
    for name in RUNBOOK_TEMPLATES:
        text = environment.get_template(f"{name}.j2").render(context)
        rendered[name] = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    return rendered


# ---------------------------------------------------------------------------- files


@dataclass(frozen=True)
class StaleRunbook:
    path: Path
    diff: str


def stale_runbooks(out_dir: Path, rendered: Mapping[str, str]) -> list[StaleRunbook]:
    """Runbooks whose committed text differs from a fresh render (missing ones included)."""
    stale = []
    for name, text in sorted(rendered.items()):
        path = out_dir / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        before = "" if current is None else current
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path} (committed)" if current is not None else "/dev/null",
                tofile=f"{path} (rendered)",
            )
        )
        stale.append(StaleRunbook(path=path, diff=diff))
    return stale


def write_runbooks(out_dir: Path, rendered: Mapping[str, str]) -> list[Path]:
    """Write the stale ones atomically: each runbook is complete, old or new, never half-written."""
    stale = {item.path: rendered[item.path.name] for item in stale_runbooks(out_dir, rendered)}
    write_all_atomically(stale)
    return list(stale)


def render_for(root: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Gather every input for the repository at `root` and render its runbooks."""
    monitor = parse_monitor_facts(read_monitor_config(root, env))
    return render_runbooks(monitor, load_rules(), load_adoption(root))


# ---------------------------------------------------------------------------- command

EXAMPLES = """\b
Examples:
  readiness runbooks                      render runbooks/*.md from the monitor's configuration
  readiness runbooks --check              exit 1 and show a diff when a committed runbook is stale
  readiness runbooks --out docs/runbooks  render somewhere else
  OPS_MONITOR_SCHEDULES='{"full": "30 1 * * *"}' readiness runbooks --check
"""


@click.command("runbooks", epilog=EXAMPLES)
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if stale.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the runbooks (default: ROOT/runbooks).",
)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Repository whose monitor configuration, hooks and action are documented.",
)
@click.option("--debug", is_flag=True, hidden=True)
def runbooks(check_only: bool, out_dir: Path | None, root: Path, debug: bool) -> int:
    """Render the operations runbooks from the monitor configuration and the rules' docs."""
    target = out_dir if out_dir is not None else root / "runbooks"
    rendered = render_for(root)
    if check_only:
        stale = stale_runbooks(target, rendered)
        for item in stale:
            click.echo(item.diff, nl=False)
        _summarise(stale_paths=[item.path for item in stale], checked=len(rendered))
        return 1 if stale else 0
    written = write_runbooks(target, rendered)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    if not written:
        click.echo(f"{len(rendered)} runbooks in {target} are up to date", err=True)
    return 0


def _summarise(stale_paths: Iterable[Path], checked: int) -> None:
    names = [str(path) for path in stale_paths]
    if names:
        click.echo(
            f"stale runbooks: {', '.join(names)} (run 'readiness runbooks' and commit them)",
            err=True,
        )
    else:
        click.echo(f"{checked} runbooks are up to date", err=True)
