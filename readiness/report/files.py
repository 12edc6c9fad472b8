"""The files of a report directory: `report.<format>` and `history.json`, the trend kept over
earlier runs. They are written together and atomically: a reader or a CI upload sees the previous
complete set or the new one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from readiness.atomic_write import write_all_atomically
from readiness.report.model import Report, TrendPoint
from readiness.report.render import FORMATS, RENDERERS

HISTORY_FILE = "history.json"
HISTORY_LIMIT = 100
REPORT_NAME = "report"


def load_history(out_dir: Path, plan_name: str | None = None) -> list[TrendPoint]:
    """Earlier runs of the same plan; an unreadable history is started afresh rather than failing
    the report, and runs of another plan written to the same directory are not its trend."""
    path = out_dir / HISTORY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        points = [TrendPoint.model_validate(item) for item in raw]
    except (OSError, ValueError, TypeError, ValidationError):
        return []
    return [p for p in points if plan_name is None or p.plan in {None, plan_name}]


def write_reports(report: Report, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """All requested formats plus the history, each file complete or absent. A report of a
    format not chosen this time is removed: beside the new ones it would describe another run."""
    files = {out_dir / f"{REPORT_NAME}.{fmt}": RENDERERS[fmt](report) for fmt in formats}
    history = [point.model_dump(mode="json") for point in report.trend]
    files[out_dir / HISTORY_FILE] = json.dumps(history, indent=2) + "\n"
    write_all_atomically(files)
    for fmt in FORMATS:
        if fmt not in formats:
            (out_dir / f"{REPORT_NAME}.{fmt}").unlink(missing_ok=True)
    return list(files)
