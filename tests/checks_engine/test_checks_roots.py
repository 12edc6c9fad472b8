"""Which tree an audit is about: found walking up to our config or `.git`, wherever it runs from.

Owner paths (`orchestrator/**`), the config and fingerprints are relative to that root, so running
from a subdirectory or naming one directory must narrow the run, never move the root.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest

from checks.files import find_root
from checks_engine.conftest import EXAMPLE, MakeRepo, RunCli, commit_all, write_files

USE = "export default { fetch(r, env) { return env.DB_OPS.prepare('1'); } };\n"


def _expected(prefix: str = "") -> list[tuple[str, str, int]]:
    table = (EXAMPLE / "EXPECTED.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| ")][1:]
    found = [(row[1].strip(), row[2].strip(), int(row[3])) for row in rows]
    return sorted(row for row in found if row[1].startswith(prefix))


def _found(stdout: str) -> list[tuple[str, str, int]]:
    document = json.loads(stdout)
    return sorted((f["rule"], f["path"], f["line"]) for f in document["findings"])


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example monorepo in its own git repository (it has its own readiness.yaml)."""
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".readiness-cache"))
    git.Repo.init(root)
    commit_all(root, "example")
    return root


def test_a_subdirectory_argument_narrows_the_run_but_keeps_the_root(
    example: Path, run_cli: RunCli
) -> None:
    result = run_cli("orchestrator", "--format", "json", cwd=example)

    assert result.exit_code == 1
    # the orchestrator owns DB_OPS: with the root moved into it, db-ops-access would fire there
    assert _found(result.stdout) == _expected("orchestrator/")


def test_the_example_named_from_its_parent_is_its_own_root(example: Path, run_cli: RunCli) -> None:
    result = run_cli(example.name, "--format", "json", cwd=example.parent)

    assert _found(result.stdout) == _expected()


def test_running_in_a_subdirectory_uses_the_root_config_and_root_paths(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo(
        {
            "readiness.yaml": (
                "checks:\n  rules:\n    db-ops-access: {owner-paths: ['apps/b/**']}\n"
            ),
            "apps/a/x.ts": USE,
            "apps/b/y.ts": USE,
        }
    )

    whole = run_cli("--format", "json", "--select", "db-ops-access", cwd=root / "apps" / "a")
    one = run_cli("x.ts", "--format", "json", "--select", "db-ops-access", cwd=root / "apps" / "a")

    assert [(f[1], f[2]) for f in _found(whole.stdout)] == [("apps/a/x.ts", 1)]
    assert [(f[1], f[2]) for f in _found(one.stdout)] == [("apps/a/x.ts", 1)]
    assert json.loads(one.stdout)["summary"]["files"] == 1


def test_a_pyproject_with_our_table_marks_the_root_outside_git(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "cache"))
    top = tmp_path / "top"
    write_files(
        top,
        {
            "pyproject.toml": '[tool.readiness]\nextend-exclude = ["legacy"]\n',
            "pkg/pyproject.toml": "[project]\nname = 'pkg'\n",  # not ours: not a root
            "pkg/src/a.ts": USE,
            "legacy/old.ts": USE,
        },
    )

    result = run_cli("--format", "json", cwd=top / "pkg" / "src")

    assert [f[1] for f in _found(result.stdout)] == ["pkg/src/a.ts"]


@pytest.mark.parametrize(
    ("files", "start", "root"),
    [
        ({"readiness.yml": "checks: {}\n", "a/b/c.ts": ""}, "a/b", "sub"),
        ({".git": "gitdir: /elsewhere\n", "a/c.ts": ""}, "a", "sub"),  # a worktree's .git file
        ({"pyproject.toml": "[tool.readiness.plan]\nname = 'x'\n", "a/c.ts": ""}, "a", "sub"),
        ({"pyproject.toml": "[tool.black]\n", "a/b/c.ts": ""}, "a/b", "."),
        ({"pyproject.toml": "[tool.readiness\n", "a/c.ts": ""}, "a", "."),  # broken: not ours
        ({"pyproject.toml": b"[tool.readiness]\n# \xff\n", "a/c.ts": ""}, "a", "."),
        ({"readiness.yaml": "", "a/readiness.yaml": "", "a/c.ts": ""}, "a", "sub/a"),
    ],
)
def test_find_root_walks_up_to_the_nearest_config_or_git(
    tmp_path: Path, files: dict[str, str | bytes], start: str, root: str
) -> None:
    top = tmp_path / "top"
    git.Repo.init(top)
    write_files(top / "sub", files)

    assert find_root(top / "sub" / start) == (top / root).resolve()


def test_with_root_a_relative_path_is_found_under_the_root(
    make_repo: MakeRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    root = make_repo({"apps/a/src/main2.js": USE, "apps/b/index.ts": USE})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    under_root = run_cli("--root", str(root), "apps/a/src/main2.js", "-f", "json", cwd=elsewhere)
    (elsewhere / "stray.ts").write_text(USE, encoding="utf-8")
    outside = run_cli("--root", str(root), "stray.ts", cwd=elsewhere)

    assert [f[1] for f in _found(under_root.stdout)] == ["apps/a/src/main2.js"]
    assert outside.exit_code == 2
    assert "stray.ts: outside the audited root" in outside.stderr
    assert len(outside.stderr.strip().splitlines()) == 1
