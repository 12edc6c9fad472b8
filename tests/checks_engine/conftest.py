"""Fixtures for the engine tests: real git repositories in tmp_path, the real CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from checks.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "workers-monorepo"

MakeRepo = Callable[[dict[str, str | bytes]], Path]


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def commit_all(root: Path, message: str = "change") -> str:
    repo = git.Repo(root)
    repo.git.add(all=True)
    repo.git.commit("-m", message, "--no-gpg-sign", author="Test <test@example.com>")
    return repo.head.commit.hexsha


@pytest.fixture
def make_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeRepo:
    """A fresh git repository with `files` committed; the analysis cache lives in tmp_path."""
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "cache"))

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "repo"
        root.mkdir(exist_ok=True)
        git.Repo.init(root)
        write_files(root, files)
        commit_all(root, "fixture")
        return root

    return make


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """Run `readiness check ARGS` in-process from `cwd`, returning exit code and output."""

    def invoke(*args: str, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
