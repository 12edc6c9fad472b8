"""Keep a benchmark's figures as JSON, so that reports and later runs can read what was measured.

Each benchmark prints its table for people and calls `record` once at the end for machines: the
figures land in `build/bench/<name>.json` (or in `$BENCH_OUT_DIR`), written atomically, with when,
where and how the benchmark ran. This repository's readiness plan reads that directory.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "build" / "bench"


def output_dir() -> Path:
    """`$BENCH_OUT_DIR` when set (CI, tests), else `build/bench/` of this repository."""
    configured = os.environ.get("BENCH_OUT_DIR")
    return Path(configured) if configured else DEFAULT_DIR


def record(name: str, figures: Mapping[str, object]) -> Path:
    """Write `figures` to `<output_dir>/<name>.json` atomically and say where on stderr."""
    directory = output_dir()
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "figures": dict(figures),
    }
    target = directory / f"{name}.json"
    temporary = directory / f".{name}.{os.getpid()}.tmp"  # created with the umask's mode
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=False)
            stream.write("\n")
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    print(f"figures written to {target}", file=sys.stderr)
    return target
