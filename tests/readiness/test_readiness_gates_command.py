"""The command, manual and files gates, run for real in tmp_path."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from readiness.gates import command, files, manual
from readiness.gates.command import resolve_argv, tool_env
from readiness.gates.result import GateContext, Status, truncate, worst
from readiness.plan import CommandGate, FilesGate, FreshCommand, ManualGate, SignOff

PY = sys.executable
WaitForExit = Callable[[int, float], bool]  # the conftest fixture


def context(root: Path) -> GateContext:
    return GateContext(root=root, now=lambda: datetime(2026, 1, 10, 12, tzinfo=UTC))


def test_command_passes_on_expected_exit_and_keeps_output(tmp_path: Path) -> None:
    spec = CommandGate(kind="command", argv=[PY, "-c", "print('all good')"])

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.PASS
    assert "all good" in result.evidence
    assert result.details["exit_code"] == 0


def test_command_fails_on_other_exit_with_stderr_as_evidence(tmp_path: Path) -> None:
    script = "import sys; print('3 errors', file=sys.stderr); sys.exit(3)"
    spec = CommandGate(kind="command", argv=[PY, "-c", script])

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.FAIL
    assert result.summary.endswith("exited 3, expected 0")
    assert "3 errors" in result.evidence


def test_command_expected_nonzero_exit_passes(tmp_path: Path) -> None:
    spec = CommandGate(kind="command", argv=[PY, "-c", "raise SystemExit(1)"], expect_exit=1)

    assert command.evaluate(spec, context(tmp_path)).status == Status.PASS


def test_command_runs_in_cwd_with_env(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    script = "import os; print(os.getcwd(), os.environ['GATE_FLAVOUR'])"
    spec = CommandGate(
        kind="command", argv=[PY, "-c", script], cwd="sub", env={"GATE_FLAVOUR": "mint"}
    )

    result = command.evaluate(spec, context(tmp_path))

    assert f"{tmp_path / 'sub'} mint" in result.evidence


def test_missing_program_is_an_error(tmp_path: Path) -> None:
    spec = CommandGate(kind="command", argv=["no-such-program-here", "--version"])

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.ERROR
    assert "cannot run no-such-program-here --version" in result.summary


def test_missing_cwd_is_an_error(tmp_path: Path) -> None:
    spec = CommandGate(kind="command", argv=[PY, "-V"], cwd="nowhere")

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.ERROR
    assert "does not exist" in result.summary


def test_timeout_kills_the_process_group_and_keeps_output(
    tmp_path: Path, wait_for_exit: WaitForExit
) -> None:
    # The shell starts a grandchild in its process group, then both would wait five minutes.
    script = "sleep 300 >/dev/null 2>&1 & echo $! > grandchild.pid; echo started; exec sleep 300"
    spec = CommandGate(kind="command", argv=["sh", "-c", script], timeout=0.5)

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.ERROR
    assert "timed out after 0.5s" in result.summary
    assert "started" in result.evidence
    assert result.details["exit_code"] is None
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert wait_for_exit(grandchild, 60)  # killed with its group, not left running


def test_the_commands_own_exit_decides_and_what_it_left_running_is_stopped(
    tmp_path: Path,
) -> None:
    # The shell exits at once; its background child would hold the output open for 30 s.
    script = "sleep 30 & echo started; exit 0"
    spec = CommandGate(kind="command", argv=["sh", "-c", script], timeout=20)

    result = command.evaluate(spec, context(tmp_path))

    assert result.status == Status.PASS
    assert result.summary.endswith("exited 0")  # not "timed out after 20s"
    assert "started" in result.evidence


def test_huge_output_is_read_in_bounded_memory_keeping_head_and_tail(tmp_path: Path) -> None:
    code = "import sys; print('first'); sys.stdout.write('x' * 20_000_000); print(); print('last')"

    outcome = command.run_command([PY, "-c", code], tmp_path, 60, {})

    assert outcome.exit_code == 0
    assert outcome.output.startswith("first")
    assert outcome.output.rstrip().endswith("last")
    assert "bytes omitted" in outcome.output
    assert len(outcome.output) <= 2 * command.KEEP_BYTES + 100


def test_own_tools_and_python_run_with_our_interpreter(tmp_path: Path) -> None:
    assert resolve_argv(["readiness", "--version"]) == [PY, "-m", "readiness", "--version"]
    assert resolve_argv(["ops-monitor"]) == [PY, "-m", "ops_monitor"]
    assert resolve_argv(["python", "-V"]) == [PY, "-V"]
    assert resolve_argv(["npm", "test"]) == ["npm", "test"]
    assert tool_env({"PATH": "/bin"})["PATH"].startswith(str(Path(PY).parent))

    spec = CommandGate(kind="command", argv=["readiness", "--version"])
    assert command.evaluate(spec, context(tmp_path)).status == Status.PASS


def test_long_output_keeps_head_and_tail() -> None:
    text = "head\n" + "x" * 50_000 + "\ntail"

    shown = truncate(text, limit=100)

    assert shown.startswith("head")
    assert shown.endswith("tail")
    assert "characters omitted" in shown
    assert truncate("short") == "short"


def test_worst_status_wins() -> None:
    assert worst([Status.PASS, Status.FAIL, Status.NOT_APPLICABLE]) == Status.FAIL
    assert worst([Status.FAIL, Status.ERROR]) == Status.ERROR
    assert worst([Status.NOT_APPLICABLE, Status.PASS]) == Status.PASS
    assert worst([]) == Status.NOT_APPLICABLE


# ----------------------------------------------------------------------------------------- manual


def test_manual_gate_without_sign_off_fails(tmp_path: Path) -> None:
    result = manual.evaluate(ManualGate(kind="manual", note="read the runbook"), context(tmp_path))

    assert result.status == Status.FAIL
    assert result.summary == "awaiting sign-off: read the runbook"


def test_manual_gate_signed_off_passes(tmp_path: Path) -> None:
    spec = ManualGate(kind="manual", signed_off=SignOff(by="ana", at=date(2026, 1, 5)))

    result = manual.evaluate(spec, context(tmp_path))

    assert result.status == Status.PASS
    assert result.summary == "signed off by ana on 2026-01-05"
    assert result.details["signed_off_by"] == "ana"


def test_manual_sign_off_in_the_future_is_an_error(tmp_path: Path) -> None:
    spec = ManualGate(kind="manual", signed_off=SignOff(by="bo", at=date(2027, 1, 1)))

    assert manual.evaluate(spec, context(tmp_path)).status == Status.ERROR


# ------------------------------------------------------------------------------------------ files


def test_files_gate_passes_when_every_glob_matches(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "cron.md").write_text("# cron\n")
    spec = FilesGate(kind="files", exist=["runbooks/*.md"])

    result = files.evaluate(spec, context(tmp_path))

    assert result.status == Status.PASS
    assert result.details["exist"] == {"runbooks/*.md": ["runbooks/cron.md"]}


def test_files_gate_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("x")
    spec = FilesGate(kind="files", exist=["README.md", "runbooks/*.md"])

    result = files.evaluate(spec, context(tmp_path))

    assert result.status == Status.FAIL
    assert result.summary == "missing runbooks/*.md"


def test_stale_generated_files_fail_with_the_generators_diff(tmp_path: Path) -> None:
    (tmp_path / "out.md").write_text("old\n")
    check = "import sys; print('-old\\n+new'); sys.exit(1)"
    spec = FilesGate(kind="files", exist=["out.md"], fresh=FreshCommand(argv=[PY, "-c", check]))

    result = files.evaluate(spec, context(tmp_path))

    assert result.status == Status.FAIL
    assert "generated files are stale" in result.summary
    assert "+new" in result.evidence


def test_fresh_generated_files_pass(tmp_path: Path) -> None:
    spec = FilesGate(kind="files", fresh=FreshCommand(argv=[PY, "-c", "pass"]))

    result = files.evaluate(spec, context(tmp_path))

    assert result.status == Status.PASS
    assert result.summary == "generated files fresh"


def test_missing_and_stale_are_both_reported(tmp_path: Path) -> None:
    spec = FilesGate(
        kind="files", exist=["gone.md"], fresh=FreshCommand(argv=[PY, "-c", "exit(1)"])
    )

    result = files.evaluate(spec, context(tmp_path))

    assert result.summary.startswith("missing gone.md; generated files are stale")


def test_freshness_command_that_cannot_run_is_an_error(tmp_path: Path) -> None:
    spec = FilesGate(kind="files", fresh=FreshCommand(argv=["no-such-generator"]))

    assert files.evaluate(spec, context(tmp_path)).status == Status.ERROR
