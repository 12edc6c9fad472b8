"""`ops-monitor templates`: group log messages into templates, one JSON object per input line.

This is how grouping quality is measured and how a person sees what the miner makes of a log:
every line gets `{"template_id": ..., "template": ...}`, in input order. The miner learns from
the whole input before it labels any line, so every line carries its final template.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO

import click

from ops_monitor.analysis.headers import HeaderStripper
from ops_monitor.analysis.templates import TemplateMatch, label_all
from ops_monitor.commands.binary_input import refuse_binary_stream
from ops_monitor.ingest.lines import logical_lines

EXAMPLES = """\b
Examples:
  ops-monitor templates messages.txt
  ops-monitor templates --mode raw /var/log/app.log
  journalctl -o cat | ops-monitor templates - | jq -r .template | sort | uniq -c
"""


def _lines(source: IO[bytes]) -> Iterator[str]:
    """Lines ended by `\n` or `\r\n` only: a lone `\r` inside a message is a character."""
    text = io.TextIOWrapper(source, encoding="utf-8", errors="replace", newline="")
    for line in logical_lines(text):
        yield line.removesuffix("\n").removesuffix("\r")


def _json_lines(matches: Iterable[TemplateMatch]) -> Iterator[str]:
    rendered: dict[TemplateMatch, str] = {}
    for match in matches:
        line = rendered.get(match)
        if line is None:
            line = rendered[match] = (
                json.dumps({"template_id": match.template_id, "template": match.template}) + "\n"
            )
        yield line


@click.command("templates", epilog=EXAMPLES)
@click.argument(
    "source",
    required=False,
    default="-",
    type=click.File("rb", lazy=False),
)
@click.option(
    "--mode",
    type=click.Choice(["message", "raw"]),
    default="message",
    show_default=True,
    help="message: each line is a message. raw: whole log lines; their headers (timestamps, "
    "levels, hosts, pids, components) are found and stripped without being told the format.",
)
def templates_command(source: IO[bytes], mode: str) -> None:
    """Print the template of every line of SOURCE (a file, or - for standard input)."""
    refuse_binary_stream(source, getattr(source, "name", "-"))
    lines: Iterable[str] = _lines(source)
    if mode == "raw":
        lines = HeaderStripper().messages(lines)
    sys.stdout.writelines(_json_lines(label_all(lines)))
    sys.stdout.flush()
