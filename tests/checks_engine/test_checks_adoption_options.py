"""The options an adopter reaches for in the first hour: the `baseline` key, --verbose for skipped
files, the SARIF homepage, and the TypeScript the syntax-error rule installs once."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from checks.typescript import TYPESCRIPT_VERSION, CacheState, cache_state, notice
from readiness.cli import main as readiness_main

from .conftest import REPO_ROOT, MakeRepo, RunCli, commit_all, write_files

USE = "export const f = (env: Env) => env.DB_OPS.prepare('SELECT 1');\n"


def test_the_baseline_key_names_a_file_relative_to_the_root(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    assert run_cli(str(root), "--write-baseline", str(root / "known.json")).exit_code == 0
    write_files(root, {"readiness.yaml": "checks:\n  baseline: known.json\n"})

    kept = run_cli(str(root))
    rewritten = run_cli(str(root), "--write-baseline", str(root / "again.json"))

    assert kept.exit_code == 0, kept.stdout + kept.stderr
    assert "1 in the baseline" in kept.stdout
    assert "wrote 1 finding(s)" in rewritten.stdout  # a configured baseline never hides findings


@pytest.mark.parametrize("value", ["''", "[a]", "3"])
def test_a_bad_baseline_key_is_an_error_naming_it(
    make_repo: MakeRepo, run_cli: RunCli, value: str
) -> None:
    root = make_repo({"apps/a/index.ts": USE, "readiness.yaml": f"checks:\n  baseline: {value}\n"})

    result = run_cli(str(root))

    assert result.exit_code == 2
    assert "readiness.yaml: baseline: expected a file or REF:PATH" in result.stderr


def test_a_baseline_at_a_git_ref_is_read_from_that_commit(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    run_cli(str(root), "--write-baseline", str(root / ".readiness-baseline.json"))
    commit_all(root, "baseline")
    (root / ".readiness-baseline.json").write_text('{"version": 1, "findings": []}\n')

    from_ref = run_cli(str(root), "--baseline", "HEAD:.readiness-baseline.json")
    from_file = run_cli(str(root), "--baseline", str(root / ".readiness-baseline.json"))

    assert from_ref.exit_code == 0
    assert from_file.exit_code == 1  # the working copy's (emptied) baseline is another file


def test_skipped_files_are_counted_and_listed_on_stderr_only_with_verbose(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo({"apps/a/latin1.ts": "const s = 'caf\xe9';\n".encode("latin-1")})

    quiet = run_cli(str(root))
    verbose = run_cli(str(root), "--verbose")

    assert quiet.stdout == "0 findings in 1 files (0 cached); 1 skipped (--verbose lists them)\n"
    assert quiet.stderr == ""
    assert verbose.stdout.startswith("0 findings in 1 files")
    assert verbose.stderr == "note: apps/a/latin1.ts: skipped: not UTF-8 text\n"


def test_sarif_information_uri_is_the_projects_homepage(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    sarif = json.loads(run_cli(str(root), "-f", "sarif").stdout)

    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == pyproject["project"]["urls"]["Homepage"]
    assert "example.invalid" not in driver["informationUri"]


def test_the_typescript_notice_says_once_what_was_installed_where(tmp_path: Path) -> None:
    missing = CacheState(tmp_path, installed=False, failed=False)
    installed = CacheState(tmp_path, installed=True, failed=False)
    failed = CacheState(tmp_path, installed=False, failed=True)

    said = notice(missing, installed)

    assert said.startswith(f"installed TypeScript {TYPESCRIPT_VERSION} from the npm registry")
    assert str(tmp_path) in said
    assert notice(installed, installed) == ""  # the next run says nothing
    assert "could not install" in notice(missing, failed)
    assert "readiness tools install" in notice(missing, failed)
    assert notice(failed, failed) == ""


def _pinned_copy(cache_home: Path) -> Path:
    """A pinned TypeScript laid out as npm installs it, in the per-user cache."""
    prefix = cache_home / "readiness-toolkit" / "typescript" / TYPESCRIPT_VERSION
    package = prefix / "node_modules" / "typescript"
    (package / "lib").mkdir(parents=True)
    (package / "lib" / "typescript.js").write_text("module.exports = {};\n")
    (package / "package.json").write_text(json.dumps({"version": TYPESCRIPT_VERSION}))
    return prefix


def test_tools_install_reports_a_copy_already_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    prefix = _pinned_copy(tmp_path)

    status = readiness_main(["tools", "install"])

    assert status == 0
    assert cache_state().installed
    assert capsys.readouterr().out == f"TypeScript {TYPESCRIPT_VERSION} is installed in {prefix}\n"


def test_tools_install_without_npm_is_an_error_saying_what_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no npm to run

    status = readiness_main(["tools", "install"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"readiness: error: could not install TypeScript {TYPESCRIPT_VERSION}")
    assert "falls back" in err
    assert len(err.splitlines()) == 1


def test_the_cheap_look_at_the_cache_sees_what_an_install_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checks.rules._typescript_parser import cache_dir
    from checks.typescript import change_notice
    from checks.typescript_cache import cache_root, observe

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    before = observe()
    prefix = _pinned_copy(tmp_path)
    after = observe()

    assert cache_root() / TYPESCRIPT_VERSION == cache_dir() == prefix
    assert before == {}
    assert after == {TYPESCRIPT_VERSION: (True, False)}
    assert change_notice(before, after).startswith(f"installed TypeScript {TYPESCRIPT_VERSION}")
    assert change_notice(after, observe()) == ""
