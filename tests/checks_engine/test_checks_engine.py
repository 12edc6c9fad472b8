"""The engine: discovery, restriction to given files, the content-hash cache and its races."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from checks.api import audit
from checks.cache import TEMPORARY_PREFIX, Cache, default_directory
from checks.cli_support import UserError
from checks.config import load
from checks.engine import PARALLEL_THRESHOLD, analyse, pool_start_method
from checks.files import discover
from checks.model import Analysis
from checks.registry import get_rule
from checks.repository import Repository, recording
from checks_engine.conftest import MakeRepo, commit_all, write_files

USE = "export default { fetch(r, env) { return env.DB_OPS.prepare('1'); } };\n"
CLEAN = "export const answer = 42;\n"


def paths(root: Path, **options: object) -> list[tuple[str, int]]:
    result = audit(root, select=["db-ops-access"], **options)  # type: ignore[arg-type]
    return [(f.path, f.line) for f in result.findings]


def test_discovery_skips_ignored_and_vendored_trees_but_sees_untracked_files(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {
            ".gitignore": "generated/\n",
            "apps/a/index.ts": USE,
            "apps/a/node_modules/x/index.js": USE,
            "dist/bundle.js": USE,
            "third_party/lib.ts": USE,
        }
    )
    write_files(root, {"apps/b/new.ts": USE, "generated/out.ts": USE})

    assert discover(root) == [".gitignore", "apps/a/index.ts", "apps/b/new.ts"]
    assert paths(root) == [("apps/a/index.ts", 1), ("apps/b/new.ts", 1)]


def test_outside_git_the_tree_is_walked(tmp_path: Path) -> None:
    write_files(tmp_path, {"a/index.ts": USE, "a/node_modules/m.js": USE, "b/c.py": "x = 1\n"})

    assert discover(tmp_path) == ["a/index.ts", "b/c.py"]
    assert paths(tmp_path, use_cache=False) == [("a/index.ts", 1)]


def test_huge_and_undecodable_files_are_skipped_with_a_note_binary_ones_silently(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {
            "apps/a/logo.js": b"\x89PNG\x00\x00DB_OPS",
            "apps/a/latin1.ts": "const s = 'caf\xe9'; env.DB_OPS;\n".encode("latin-1"),
            "apps/a/huge.js": "env.DB_OPS;\n" + "// filler\n" * 250_000,
            "apps/a/index.ts": USE,
        }
    )

    result = audit(root, select=["db-ops-access"])

    assert [f.path for f in result.findings] == ["apps/a/index.ts"]
    assert sorted(result.notes) == [
        "apps/a/huge.js: skipped: larger than 2 MB",
        "apps/a/latin1.ts: skipped: not UTF-8 text",
    ]
    assert result.summary["binary"] == 1


def test_given_paths_restrict_the_run(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/index.ts": USE, "apps/b/index.ts": USE, "apps/c/x.ts": USE})

    assert paths(root, paths=[Path("apps/b/index.ts"), root / "apps/c"]) == [
        ("apps/b/index.ts", 1),
        ("apps/c/x.ts", 1),
    ]


@pytest.mark.parametrize("path", ["../elsewhere.ts", "apps/missing.ts"])
def test_a_bad_path_is_a_usage_error_naming_it(make_repo: MakeRepo, path: str) -> None:
    root = make_repo({"apps/a/index.ts": USE})

    with pytest.raises(UserError, match=path.replace(".", r"\.")):
        audit(root, [Path(path)])


def test_a_warm_run_analyses_nothing_and_reports_the_same(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/index.ts": USE, "apps/a/clean.ts": CLEAN})

    cold = audit(root)
    warm = audit(root)

    assert (cold.summary["analysed"], warm.summary["analysed"]) == (2, 0)
    assert warm.summary["cached"] == 2
    assert warm.findings == cold.findings


def test_a_changed_file_is_analysed_again(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE, "apps/a/clean.ts": CLEAN})
    audit(root)

    write_files(root, {"apps/a/clean.ts": "// moved\n" + USE})
    stat = (root / "apps/a/clean.ts").stat()
    os.utime(root / "apps/a/clean.ts", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    result = audit(root, select=["db-ops-access"])

    assert result.summary["analysed"] == 1
    assert [(f.path, f.line) for f in result.findings] == [
        ("apps/a/clean.ts", 2),
        ("apps/a/index.ts", 1),
    ]


def test_changed_options_do_not_reuse_cached_results(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    assert paths(root) == [("apps/a/index.ts", 1)]

    write_files(
        root,
        {"readiness.yaml": "checks:\n  rules:\n    db-ops-access: {owner_paths: ['apps/**']}\n"},
    )

    assert paths(root) == []


def test_no_cache_writes_nothing(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE})

    audit(root, use_cache=False)

    assert not (tmp_path / "cache").exists()
    assert default_directory(root) == tmp_path / "cache"


def test_a_damaged_cache_is_ignored_and_repaired(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    audit(root)
    (index,) = (tmp_path / "cache").glob("index-*.json")
    index.write_text("{not json", encoding="utf-8")

    assert paths(root) == [("apps/a/index.ts", 1)]
    assert json.loads(index.read_text(encoding="utf-8"))["format"] == 1


def test_racing_runs_leave_a_complete_cache(make_repo: MakeRepo, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"apps/a/f{i}.ts": USE for i in range(40)}
    root = make_repo(files)

    # Eight separate `readiness check` processes at once, as hook runs in parallel terminals are.
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "checks", "--format", "json"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [len(json.loads(out)["findings"]) for out, _ in outputs] == [40] * 8, outputs
    (index,) = (tmp_path / "cache").glob("index-*.json")
    assert len(json.loads(index.read_text(encoding="utf-8"))["files"]) == 40
    # Each run writes a temporary file and renames it into place: none may be left behind.
    left = [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(TEMPORARY_PREFIX)]
    assert left == []


def test_workers_are_never_forked_from_a_process_running_other_threads() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        method = pool_start_method()
    finally:
        release.set()
        other.join()

    assert method in {"forkserver", "spawn"}


def _cold_analysis(root: Path, rule_id: str) -> Analysis:
    """The engine's own account of a run over every file, with a cache that keeps nothing."""
    rule = get_rule(rule_id)
    assert rule is not None
    files = discover(root)
    selected = [(rule, load(root).options_for(rule))]
    return analyse(root, files, files, selected, Cache(None, root))


def test_a_cold_run_over_many_files_uses_worker_processes_and_agrees(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = PARALLEL_THRESHOLD + 20
    files: dict[str, str | bytes] = {
        f"apps/a/f{i}.ts": USE if i % 3 == 0 else CLEAN for i in range(count)
    }
    root = make_repo(files)
    monkeypatch.setenv("READINESS_JOBS", "2")

    parallel = _cold_analysis(root, "db-ops-access")
    monkeypatch.setenv("READINESS_JOBS", "1")
    serial = _cold_analysis(root, "db-ops-access")

    # `workers` counts the distinct processes, other than this one, whose results came back. Which
    # of the two pool processes takes the chunks is the scheduler's business (a fast one may take
    # them all), so the proof is that the work left this process, and never for more than 2.
    assert 1 <= parallel.workers <= 2
    assert serial.workers == 0
    assert (parallel.analysed, serial.analysed) == (count, count)
    assert parallel.findings == serial.findings
    assert len(parallel.findings) == len(range(0, count, 3))


def test_cache_entries_of_deleted_files_are_pruned(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE, "apps/a/old.ts": USE})
    audit(root)
    (root / "apps/a/old.ts").unlink()
    commit_all(root)

    audit(root)

    cache = Cache(tmp_path / "cache", root)
    cache.load()
    assert sorted(cache.entries) == ["apps/a/index.ts"]


def _age(root: Path, seconds: int = 60) -> None:
    """Push every file's mtime into the past, as for a checkout that is not being edited."""
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def test_an_unchanged_tree_reuses_the_whole_previous_result(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/index.ts": USE, "apps/a/ok.ts": CLEAN, "package.json": "{}"})
    _age(root)
    first = audit(root)

    again = audit(root)
    write_files(root, {"apps/a/ok.ts": CLEAN + "env.DB_OPS;\n"})
    _age(root, 30)
    changed = audit(root)

    assert again.findings == first.findings
    assert (again.summary["analysed"], again.summary["cached"]) == (0, 3)
    assert changed.summary["analysed"] == 1
    assert [(f.path, f.line) for f in changed.findings] == [
        ("apps/a/index.ts", 1),
        ("apps/a/ok.ts", 2),
    ]


def test_a_damaged_snapshot_is_ignored(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    _age(root)
    audit(root)
    for snapshot in (tmp_path / "cache").glob("run-*.json"):
        snapshot.write_text('{"key": "x"', encoding="utf-8")

    assert paths(root) == [("apps/a/index.ts", 1)]


TSX = "export const App = () => <div />;\n"


def _base(jsx: bool) -> str:
    options = '"strict": true' + (', "jsx": "react-jsx"' if jsx else "")
    return "{ " + f'"compilerOptions": {{ {options} }}' + " }\n"


def _jsx_findings(root: Path) -> tuple[int, int]:
    result = audit(root, select=["tsconfig-jsx"])
    return len(result.findings), result.summary["analysed"]


def test_a_changed_tsconfig_base_in_node_modules_is_not_served_from_the_cache(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {
            ".gitignore": "node_modules/\n",
            "tsconfig.json": '{ "extends": "@acme/tsconfig/base.json", "include": ["src"] }\n',
            "src/App.tsx": TSX,
        }
    )
    write_files(root, {"node_modules/@acme/tsconfig/base.json": _base(jsx=False)})
    _age(root)
    assert _jsx_findings(root) == (1, 3)
    assert _jsx_findings(root) == (1, 0)  # the whole previous result, reused

    write_files(root, {"node_modules/@acme/tsconfig/base.json": _base(jsx=True)})

    assert _jsx_findings(root)[0] == 0
    _age(root, 30)
    assert _jsx_findings(root)[0] == 0
    assert _jsx_findings(root)[0] == 0


def test_installing_a_missing_tsconfig_base_is_not_served_from_the_cache(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {
            ".gitignore": "node_modules/\n",
            "tsconfig.json": '{ "extends": "@acme/tsconfig/base.json", "include": ["src"] }\n',
            "src/App.tsx": TSX,
        }
    )
    _age(root)
    assert _jsx_findings(root)[0] == 0  # a base we cannot find may set jsx: nothing said
    assert _jsx_findings(root)[0] == 0

    base = root / "node_modules/@acme/tsconfig/base.json"
    write_files(root, {"node_modules/@acme/tsconfig/base.json": _base(jsx=False)})
    stat = base.stat()  # only the base changes: every discovered file keeps its stamp
    os.utime(base, ns=(stat.st_atime_ns, stat.st_mtime_ns - 30_000_000_000))

    assert _jsx_findings(root)[0] == 1


def test_reads_outside_the_discovered_tree_are_recorded(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.ts": CLEAN, "ignored/x.json": "{}"})
    repo = Repository(tmp_path, ["a.ts"], ["a.ts"])

    with recording() as read:
        repo.source("a.ts")
        repo.source("ignored/x.json")
        repo.extract("ignored/y.json", "key", lambda source: source.text)
        repo.depends_on("elsewhere/z.json")
    repo.source("ignored/after.json")  # outside a run nothing is recorded

    assert read == {
        str(tmp_path / "ignored/x.json"),
        str(tmp_path / "ignored/y.json"),
        str(tmp_path / "elsewhere/z.json"),
    }


WRANGLER = 'name = "jobs"\nmain = "worker/index.ts"\n\n[triggers]\ncrons = ["0 2 * * *"]\n'
HANDLER = """\
export default {
  async scheduled(event: ScheduledEvent, env: Env) {
    // readiness: ignore[db-ops-access] the nightly export owns its own table
    await env.DB_OPS.prepare('1').run();
  },
};
"""


def test_a_file_first_read_for_another_file_keeps_its_suppressions_when_audited(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({"wrangler.toml": WRANGLER, "worker/index.ts": HANDLER})
    audit(root, [Path("wrangler.toml")])  # cron-handler reads the handler as context, and caches it

    result = audit(root)

    assert [f.rule for f in result.findings] == []
    assert result.summary["suppressed"] == 1


def test_after_one_file_changes_all_rules_analyse_only_that_file_and_agree_with_a_cold_run(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(
        {
            "package.json": '{"name": "mono", "workspaces": ["apps/*"]}',
            "apps/a/package.json": '{"name": "a", "dependencies": {"hono": "^4"}}',
            "apps/a/tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}',
            "apps/a/wrangler.toml": 'name = "a"\n[triggers]\ncrons = ["0 * * * *"]\n',
            "apps/a/src/index.ts": 'import { Hono } from "hono";\nimport x from "@/x";\n',
            "apps/a/src/view.tsx": "export const View = () => <div />;\n",
            "apps/a/src/other.ts": 'import z from "zod";\n',
        }
    )
    audit(root)

    write_files(
        root, {"apps/a/src/index.ts": 'import { Hono } from "hono";\nimport y from "yup";\n'}
    )
    stat = (root / "apps/a/src/index.ts").stat()
    os.utime(root / "apps/a/src/index.ts", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    warm = audit(root)
    cold = audit(root, use_cache=False)

    assert warm.summary["analysed"] == 1
    assert warm.summary["cached"] == cold.summary["analysed"] - 1
    assert warm.findings == cold.findings
    assert {(f.rule, f.path) for f in warm.findings} >= {
        ("missing-dependency", "apps/a/src/index.ts"),
        ("missing-dependency", "apps/a/src/other.ts"),
        ("tsconfig-jsx", "apps/a/tsconfig.json"),
    }
