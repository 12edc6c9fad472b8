"""Where the TypeScript parser comes from, and what happens when it cannot run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.rules import _typescript_parser as ts
from checks.rules.syntax_error import Options, check
from checks.source import SourceFile

from .conftest import needs_node

BROKEN = "export function f( {\n  return 1;\n}\n"
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="session")
def installed_typescript() -> Path:
    """The per-user cached copy of typescript, installed on first use like the rule does."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    found = ts.find_typescript(Path("/"), "", install=True)
    assert found is not None
    return found


def source_in(directory: Path, name: str, text: str) -> SourceFile:
    path = directory / name
    path.write_text(text)
    return SourceFile(name, path, text.encode(), text)


@needs_node
def test_the_projects_own_typescript_is_preferred(
    installed_typescript: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "node_modules").mkdir(parents=True)
    (project / "node_modules" / "typescript").symlink_to(installed_typescript)
    (project / "src").mkdir()

    found = ts.find_typescript(project / "src", "", install=False)

    assert found == project / "node_modules" / "typescript"


def test_an_explicit_directory_may_hold_node_modules(installed_typescript: Path) -> None:
    prefix = installed_typescript.parent.parent

    assert ts.find_typescript(Path("/"), str(prefix), install=False) == installed_typescript
    assert (
        ts.find_typescript(Path("/"), str(installed_typescript), install=False)
        == installed_typescript
    )


def test_a_typescript_that_fails_to_load_means_no_second_opinion(tmp_path: Path) -> None:
    broken = tmp_path / "typescript"
    (broken / "lib").mkdir(parents=True)
    (broken / "lib" / "typescript.js").write_text("throw new Error('corrupt install');\n")
    file = source_in(tmp_path, "a.ts", BROKEN)

    verdict = ts.typescript_diagnostics(file, "node", str(broken), install=False)
    findings = check(file, Options(typescript=str(broken), install_typescript=False))

    assert verdict is None
    assert len(findings) == 1  # the known-gaps fallback still reports it


def test_no_node_means_no_second_opinion(tmp_path: Path) -> None:
    file = source_in(tmp_path, "a.ts", BROKEN)

    assert ts.typescript_diagnostics(file, "no-such-node-binary", "", install=False) is None
    assert ts.typescript_diagnostics(file, "", "", install=False) is None


def test_without_npm_nothing_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    assert ts.find_typescript(tmp_path, "", install=True) is None
    assert ts.find_typescript(tmp_path, "", install=False) is None


@pytest.mark.slow
@needs_npm
@needs_node
def test_install_fills_the_cache_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    first = ts.find_typescript(tmp_path, "", install=True)
    second = ts.find_typescript(tmp_path, "", install=False)

    assert (
        first
        == second
        == tmp_path / "cache" / "readiness-toolkit" / "typescript" / "node_modules" / "typescript"
    )
    file = source_in(tmp_path, "a.ts", BROKEN)
    assert ts.typescript_diagnostics(file, "node", "", install=False)


@needs_node
def test_servers_are_closed_at_exit(installed_typescript: Path, tmp_path: Path) -> None:
    file = source_in(tmp_path, "a.ts", BROKEN)
    assert ts.typescript_diagnostics(file, "node", str(installed_typescript), install=False)

    ts._close_all()

    assert ts._servers == {}
    assert ts.typescript_diagnostics(file, "node", str(installed_typescript), install=False)
