"""The runbooks as text: Jinja2 templates in `readiness/templates/runbooks/` and the filters
they use. A pure function of the facts, with no timestamps: the same configuration always renders
the same bytes. Jinja2 is imported where it is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from readiness.runbooks.facts import (
    Adoption,
    MonitorFacts,
    RuleDoc,
    load_adoption,
    load_rules,
    parse_monitor_facts,
    read_monitor_config,
)

if TYPE_CHECKING:
    import jinja2

RUNBOOK_TEMPLATES = ("cron-monitoring.md", "ops-monitor.md", "checks.md")

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


def render_for(root: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Gather every input for the repository at `root` and render its runbooks."""
    monitor = parse_monitor_facts(read_monitor_config(root, env))
    return render_runbooks(monitor, load_rules(), load_adoption(root))
