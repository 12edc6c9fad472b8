"""`ops-monitor ingest`: stream a log file into the store in batches.

Memory stays bounded by one batch whatever the file size; a progress bar shows on a terminal.
Each batch is committed with the file's checkpoint, so a rerun after a kill (or after the file
grew) reads on where the last committed batch ended: nothing lost, nothing stored twice.
`--restart` reads the file from the start again.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

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
from ops_monitor.ingest.resume import FilePosition, identify, same_file
from ops_monitor.ingest.text import (
    DEFAULT_FORMAT,
    PatternError,
    PatternFit,
    compile_format,
    read_text,
)
from ops_monitor.ingest.wrangler import read_wrangler
from ops_monitor.models import LogRecord
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import checkpoints

EXAMPLES = """\b
Examples:
  ops-monitor ingest app.jsonl
  wrangler tail my-worker --format json > tail.json; ops-monitor ingest tail.json --format wrangler
  ops-monitor ingest app.log --format text --pattern '<Date> <Time> <Level> <Content>'
  ops-monitor ingest app.log --format text \\
      --pattern '^(?P<Timestamp>\\S+) \\[(?P<Level>\\w+)\\] (?P<Content>.*)$'
  cat app.jsonl | ops-monitor ingest - --source api-worker
  ops-monitor ingest app.jsonl --restart    # read it all again, not from the last run's end
"""
PROGRESS_EVERY = 5000


def _counting(
    lines: Iterable[str], progress: Progress, task: TaskID, position: FilePosition | None
) -> Iterator[str]:
    """`lines`, advancing the progress bar every few thousand (by bytes read, for a file)."""
    consumed = 0
    for count, line in enumerate(lines, start=1):
        consumed += len(line)
        if count % PROGRESS_EVERY == 0:
            progress.update(task, completed=position.offset if position else consumed)
        yield line
    progress.update(task, completed=position.offset if position else consumed)


def _open_file(
    file: Path, service: OpsMonitorService, restart: bool, malformed: MalformedLines
) -> tuple[BinaryIO, FilePosition]:
    """The file, positioned where the last run's committed batches ended (unless `restart`, or
    the file at this path is not the one that run read)."""
    try:
        handle = file.open("rb")
    except OSError as error:
        raise click.UsageError(f"{file}: cannot read: {error.strerror}") from error
    path = str(file.resolve())
    identity = identify(handle)
    head = handle.read(identity.head_bytes)
    size = os.fstat(handle.fileno()).st_size
    with service.store.read() as connection:
        saved = checkpoints.load(connection, path)
    start = None
    if saved is not None and not restart:
        if same_file(saved.identity, identity, head, size, saved.offset):
            start = saved
            if saved.offset:
                click.echo(
                    f"resuming {file} at byte {saved.offset} (line {saved.line}), where the last "
                    "run's stored records end; --restart reads it from the start",
                    err=True,
                )
        else:
            click.echo(
                f"{file} is not the file the last run read (replaced, rotated or rewritten): "
                "reading it from the start",
                err=True,
            )
    return handle, FilePosition(handle, path, identity, malformed, start)


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
@click.option(
    "--restart",
    is_flag=True,
    help="Read FILE from the start, not from where the last run's stored records end.",
)
@db_option
def ingest_command(
    file: Path,
    fmt: str,
    pattern: str | None,
    default_source: str,
    batch_size: int | None,
    progress: bool | None,
    restart: bool,
    db_url: str | None,
) -> int:
    """Read log records from FILE (or - for stdin) into the monitor's database."""
    settings = load_settings(db_url)
    if pattern is not None and fmt != "text":
        raise click.UsageError("--pattern only applies to --format text")
    try:
        compiled = compile_format(pattern or DEFAULT_FORMAT) if fmt == "text" else None
    except PatternError as error:
        raise click.UsageError(str(error)) from error
    malformed = MalformedLines(keep=settings.malformed_samples)
    fit = PatternFit()
    show = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()
    bar = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        disable=not show,
        transient=True,
    )
    with ExitStack() as stack:
        service = stack.enter_context(open_service(settings))
        refuse_binary_file(file, BinaryLog)  # a binary file holds no valid record: exit 1
        position: FilePosition | None = None
        lines: Iterable[str]
        if str(file) == "-":
            # Like a file: only `\n` and `\r\n` end a line, and bad bytes never stop the reading.
            lines = io.TextIOWrapper(
                sys.stdin.buffer, encoding="utf-8", errors="replace", newline=""
            )
            size = None
        else:
            handle, position = _open_file(file, service, restart, malformed)
            stack.enter_context(handle)
            lines = position.lines()
            size = os.fstat(handle.fileno()).st_size
        stack.enter_context(bar)
        task = bar.add_task("ingest", total=size, completed=position.offset if position else 0)
        if show:
            lines = _counting(lines, bar, task, position)
        records: Iterable[LogRecord]
        if fmt == "jsonl":
            records = read_jsonl(lines, malformed, default_source=default_source)
        elif fmt == "wrangler":
            records = read_wrangler(lines, malformed)
        else:
            assert compiled is not None  # noqa: S101 - compiled above for text
            records = read_text(
                lines, malformed, pattern=compiled, default_source=default_source, fit=fit
            )
        summary = service.store_logs(
            records if position is None else position.records(records),
            origin=f"file:{fmt}",
            malformed=malformed,
            batch_size=batch_size or settings.ingest_batch_size,
            checkpoint=None if position is None else position.checkpoint,
        )
    elapsed = time.perf_counter() - started
    stored = summary.stored
    rate = stored / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"ingested {stored} records from {file} in {elapsed:.2f} s ({rate:,.0f}/s); "
        f"{malformed.count} malformed lines; {summary.expired} expired "
        f"(older than the {settings.retention_days}-day retention, not stored)"
    )
    if fit.records:
        click.echo(_fit_line(fit, pattern or DEFAULT_FORMAT))
    for sample in malformed.samples:
        click.echo(f"  malformed: {sample}", err=True)
    if summary.expired and not stored:
        click.echo(
            f"ops-monitor: every record of {file} is older than the {settings.retention_days}-day "
            "retention window; nothing was stored (OPS_MONITOR_RETENTION_DAYS sets the window)",
            err=True,
        )
        return 1
    return 0


def _fit_line(fit: PatternFit, pattern: str) -> str:
    """How many records the text pattern described as it stands, and what was done with the rest."""
    line = f"text pattern {pattern!r}: {fit.fitting} of {fit.records} records fit it"
    if fit.level_found_later:
        line += (
            f"; in {fit.level_found_later} the <Level> field held no level and the level was "
            "found further on in the header"
        )
    if fit.no_level:
        line += (
            f"; {fit.no_level} had no level at all (stored as info, the field kept as the "
            "'level_field' attribute)"
        )
    if fit.fitting < fit.records:
        line += "; --pattern describes the layout exactly"
    return line
