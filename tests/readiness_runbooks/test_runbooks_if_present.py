"""`readiness runbooks --check --if-present`, what the hook other repositories use runs: it passes
where no runbook was ever rendered and checks them once there are."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.cli import main


def test_a_repository_without_runbooks_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["runbooks", "--check", "--if-present", "--root", str(tmp_path)])

    captured = capsys.readouterr()
    assert status == 0
    assert captured.out == ""
    assert captured.err == f"no runbooks rendered in {tmp_path / 'runbooks'}: nothing to check\n"


def test_once_rendered_a_stale_runbook_fails_as_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runbooks", "--root", str(tmp_path)]) == 0
    assert main(["runbooks", "--check", "--if-present", "--root", str(tmp_path)]) == 0
    stale = tmp_path / "runbooks" / "checks.md"
    stale.write_text(stale.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    capsys.readouterr()

    status = main(["runbooks", "--check", "--if-present", "--root", str(tmp_path)])

    assert status == 1
    assert "-edited by hand" in capsys.readouterr().out
