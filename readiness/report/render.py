"""One `Report` rendered three ways: Markdown for pull requests and job summaries, a
self-contained HTML page for people, JSON for machines; and a table for the terminal.

Rendering is pure: the same report gives the same text, and nothing here touches a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from readiness.report.model import Report
from readiness.report.trend import trend_chart

if TYPE_CHECKING:
    from rich.table import Table

FORMATS = ("md", "html", "json")

_ENVIRONMENT = Environment(
    loader=PackageLoader("readiness", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "not-applicable": "⚪"}
_STYLES = {"pass": "green", "fail": "red", "error": "yellow", "not-applicable": "dim"}


def _text(text: str) -> str:
    """Plan text in Markdown: one line, and no raw HTML (`<script>`, `</details>`) reaching a
    pull request comment or a job summary; entities render as the characters they stand for."""
    one_line = " ".join(str(text).split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Markdown table cells: plan text with pipes escaped."""
    return _text(text).replace("|", "\\|")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(run) for run in text.split("\n") for run in _backtick_runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _backtick_runs(line: str) -> list[str]:
    runs, current = [], ""
    for char in line:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


_ENVIRONMENT.filters["cell"] = _cell
_ENVIRONMENT.filters["text"] = _text
_ENVIRONMENT.filters["fence"] = _fence
_ENVIRONMENT.globals["icons"] = _ICONS


def render_markdown(report: Report) -> str:
    return _ENVIRONMENT.get_template("report.md.j2").render(report=report)


def render_html(report: Report) -> str:
    chart = trend_chart(report.trend)
    return _ENVIRONMENT.get_template("report.html.j2").render(report=report, chart=chart)


def render_json(report: Report) -> str:
    return report.to_json_text()


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


def summary_table(report: Report) -> Table:
    """One row per criterion with its status, for the terminal that ran `readiness report`."""
    from rich.table import Table

    table = Table(title=f"{report.plan_name}: {report.status.value}", title_justify="left")
    table.add_column("criterion")
    table.add_column("status")
    table.add_column("summary", overflow="fold")
    for criterion in report.criteria:
        style = _STYLES[criterion.status.value]
        table.add_row(criterion.id, f"[{style}]{criterion.status.value}[/]", criterion.summary)
    return table
