"""A benchmark run leaves its figures where this repository's readiness plan looks for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.gates import files as files_gate
from readiness.gates.result import GateContext, Status
from readiness.plan import FilesGate, load_plan

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO_ROOT / "benchmarks"


@pytest.mark.slow
def test_a_small_monitor_benchmark_writes_its_figures_and_passes_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "build" / "bench"
    env = {**os.environ, "BENCH_OUT_DIR": str(out)}
    argv = ["--records", "300", "--incremental", "30", "--ingest-records", "200"]

    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_monitor.py"), *argv, "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    document = json.loads((out / "monitor.json").read_text(encoding="utf-8"))
    assert document["benchmark"] == "monitor"
    assert document["argv"][:2] == ["--records", "300"]
    figures = document["figures"]
    assert figures["full_scan"]["logs_processed"] == 300
    assert figures["incremental_scan"]["records"] == 30
    assert figures["ingest"]["records"] == 200
    assert figures["ingest"]["records_per_second"] > 0
    assert [p.name for p in out.iterdir()] == ["monitor.json"]  # no temporary file left behind

    plan = load_plan(REPO_ROOT / "readiness.yaml")
    (spec,) = [c.gate for c in plan.criteria if c.id == "benchmarks-run"]
    assert isinstance(spec, FilesGate)
    assert files_gate.evaluate(spec, GateContext(root=tmp_path)).status is Status.PASS


def test_figures_replace_the_previous_run_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_OUT_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import figures  # benchmarks/ is a folder of scripts, not a package

    figures.record("scheduler", {"scans": 50, "nested": {"wall_seconds": 2.5}})
    path = figures.record("scheduler", {"scans": 51})

    document = json.loads(path.read_text(encoding="utf-8"))
    assert path == tmp_path / "scheduler.json"
    assert document["figures"] == {"scans": 51}
    assert document["machine"]["cpus"] == os.cpu_count()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scheduler.json"]
