"""The cache stores and loads per-file results; what they mean is its callers' business."""

from __future__ import annotations

import os
from pathlib import Path

from checks.cache import Cache
from checks.model import Directive, FileResult, Finding, Severity

FINDING = Finding("db-ops-access", Severity.ERROR, "a.ts", 3, 5, "DB_OPS used", "fix", "env.DB_OPS")
DIRECTIVE = Directive(1, 1, ("db-ops-access",), "read-only probe", "// readiness: ignore[...]")


def _result(root: Path, mtime: int) -> FileResult:
    return FileResult(
        sha="0" * 64,
        size=(root / "a.ts").stat().st_size,
        mtime=mtime,
        findings={"db-ops-access@1:abc": [FINDING], "cron-handler@1:def": []},
        facts={"tsconfig-jsx@1:123": {"jsx": None, "paths": ["src"]}, "other@1:456": None},
        directives=[DIRECTIVE],
        extra={"wrangler": [["crons", 1]]},
        fresh=True,
    )


def _aged(root: Path) -> int:
    """An mtime safely in the past, so the cache trusts it as a shortcut."""
    path = root / "a.ts"
    path.write_text("env.DB_OPS;\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 60_000_000_000))
    return path.stat().st_mtime_ns


def test_a_saved_result_loads_as_it_was_stored_but_never_as_fresh(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    mtime = _aged(root)
    cache = Cache(tmp_path / "cache", root)
    cache.store("a.ts", _result(root, mtime))
    cache.save()

    loaded = Cache(tmp_path / "cache", root)
    loaded.load()

    expected = _result(root, mtime)
    expected.fresh = False
    assert loaded.lookup("a.ts", (root / "a.ts").stat()) == expected
    assert loaded.by_hash("a.ts", "0" * 64) == expected


def test_a_file_whose_size_changed_under_the_same_mtime_is_not_found_by_its_stamp(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    mtime = _aged(root)
    cache = Cache(tmp_path / "cache", root)
    cache.store("a.ts", _result(root, mtime))

    (root / "a.ts").write_text("env.DB_OPS; // longer\n", encoding="utf-8")
    os.utime(root / "a.ts", ns=(mtime, mtime))

    assert cache.lookup("a.ts", (root / "a.ts").stat()) is None


def test_a_cache_that_keeps_nothing_hands_back_the_very_findings_it_was_given(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    mtime = _aged(root)
    cache = Cache(None, root)

    cache.store("a.ts", _result(root, mtime))
    cache.save()

    found = cache.lookup("a.ts", (root / "a.ts").stat())
    assert found is not None
    assert found.findings["db-ops-access@1:abc"][0] is FINDING  # not a decoded copy
    assert not (tmp_path / "cache").exists()


def test_a_result_stored_moments_after_an_edit_is_not_found_by_its_stamp(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.ts").write_text("env.DB_OPS;\n", encoding="utf-8")
    stat = (root / "a.ts").stat()
    cache = Cache(tmp_path / "cache", root)

    cache.store("a.ts", _result(root, stat.st_mtime_ns))

    assert cache.lookup("a.ts", stat) is None  # the same mtime tick may hold another version
    assert cache.by_hash("a.ts", "0" * 64) is not None


def test_an_entry_this_version_did_not_write_is_no_result(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    cache = Cache(tmp_path / "cache", root)
    cache.entries["a.ts"] = {"sha": "1", "findings": {"x@1:a": [{"rule": "x"}]}}
    cache.entries["b.ts"] = {"findings": {}}

    assert (cache.get("a.ts"), cache.get("b.ts"), cache.get("c.ts")) == (None, None, None)
