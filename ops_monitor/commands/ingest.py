"""`ops-monitor ingest`: stream a log file into the store in batches.

Memory stays bounded by one batch whatever the file size; a progress bar shows on a terminal.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import click
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ops_monitor.commands.binary_input import BinaryLog, refuse_binary_file
from ops_monitor.commands.local import db_option, load_settings, open_service
from ops_monitor.ingest.jsonl import read_jsonl
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.text import DEFAULT_FORMAT, PatternError, compile_format, read_text
from ops_monitor.ingest.wrangler import read_wrangler
from ops_monitor.models import LogRecord

EXAMPLES = """\b
Examples:
  ops-monitor ingest app.jsonl
  wrangler tail my-worker --format json > tail.json; ops-monitor ingest tail.json --format wrangler
  ops-monitor ingest app.log --format text --pattern '<Date> <Time> <Level> <Content>'
  ops-monitor ingest app.log --format text \\
      --pattern '^(?P<Timestamp>\\S+) \\[(?P<Level>\\w+)\\] (?P<Content>.*)$'
  cat app.jsonl | ops-monitor ingest - --source api-worker
"""
PROGRESS_EVERY = 5000


def _counting(handle: IO[str], progress: Progress, task: TaskID) -> Iterator[str]:
    """The lines of `handle`, advancing the progress bar by bytes read every few thousand."""
    consumed = 0
    for count, line in enumerate(handle, start=1):
        consumed += len(line)
        if count % PROGRESS_EVERY == 0:
            progress.update(task, completed=consumed)
        yield line
    progress.update(task, completed=consumed)


@click.command("ingest", epilog=EXAMPLES)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "wrangler", "text"]),
    default="jsonl",
    show_default=True,
    help="How the file is written.",
)
@click.option(
    "--pattern",
    metavar="FORMAT|REGEX",
    help=f"For --format text: a field format or a regex with named groups "
    f"[default: {DEFAULT_FORMAT}].",
)
@click.option(
    "--source",
    "default_source",
    default="unknown",
    show_default=True,
    help="Source for records that do not name one.",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), help="Records per insert transaction."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
@db_option
def ingest_command(
    file: Path,
    fmt: str,
    pattern: str | None,
    default_source: str,
    batch_size: int | None,
    progress: bool | None,
    db_url: str | None,
) -> None:
    """Read log records from FILE (or - for stdin) into the monitor's database."""
    settings = load_settings(db_url)
    if pattern is not None and fmt != "text":
        raise click.UsageError("--pattern only applies to --format text")
    try:
        compiled = compile_format(pattern or DEFAULT_FORMAT) if fmt == "text" else None
    except PatternError as error:
        raise click.UsageError(str(error)) from error
    malformed = MalformedLines(keep=settings.malformed_samples)
    show = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()
    handle: IO[str]
    if str(file) == "-":
        # Like a file: only `\n` and `\r\n` end a line, and bad bytes never stop the reading.
        handle = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
        size = None
    else:
        try:
            handle = file.open(encoding="utf-8", errors="replace", newline="")
        except OSError as error:
            raise click.UsageError(f"{file}: cannot read: {error.strerror}") from error
        size = file.stat().st_size
    bar = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        disable=not show,
        transient=True,
    )
    with handle, bar, open_service(settings) as service:
        refuse_binary_file(file, BinaryLog)  # a binary file holds no valid record: exit 1
        task = bar.add_task("ingest", total=size)
        lines: Iterable[str] = _counting(handle, bar, task) if show else handle
        records: Iterable[LogRecord]
        if fmt == "jsonl":
            records = read_jsonl(lines, malformed, default_source=default_source)
        elif fmt == "wrangler":
            records = read_wrangler(lines, malformed)
        else:
            assert compiled is not None  # noqa: S101 - compiled above for text
            records = read_text(lines, malformed, pattern=compiled, default_source=default_source)
        stored = service.ingest(
            records,
            origin=f"file:{fmt}",
            malformed=malformed,
            batch_size=batch_size or settings.ingest_batch_size,
        )
    elapsed = time.perf_counter() - started
    rate = stored / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"ingested {stored} records from {file} in {elapsed:.2f} s ({rate:,.0f}/s); "
        f"{malformed.count} malformed lines"
    )
    for sample in malformed.samples:
        click.echo(f"  malformed: {sample}", err=True)
