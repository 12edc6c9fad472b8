"""`ops-monitor templates` on real files and standard input, in process and as a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ops_monitor.cli import cli, main

from .conftest import RunCli

MESSAGES = [
    "user ann logged in from 10.0.0.1",
    "disk /dev/sda1 is 91% full",
    "user bob logged in from 10.0.0.2",
    "disk /dev/sdb2 is 97% full",
    "user cy logged in from 10.0.0.3",
    "disk /dev/sdc3 is 99% full",
    "user dee logged in from 10.0.0.4",
]


def _objects(stdout: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_file_gets_one_json_object_per_line_in_order(tmp_path: Path) -> None:
    source = tmp_path / "messages.txt"
    source.write_text("\n".join(MESSAGES) + "\n", encoding="utf-8")

    done = CliRunner().invoke(cli, ["templates", str(source)])

    assert done.exit_code == 0, done.output
    objects = _objects(done.stdout)
    assert [o["template"] for o in objects] == [
        "user <*> logged in from <*>",
        "disk <*> is <*> full",
    ] * 3 + ["user <*> logged in from <*>"]
    assert objects[0]["template_id"] == objects[2]["template_id"]
    assert objects[0]["template_id"] != objects[1]["template_id"]
    assert all(set(o) == {"template_id", "template"} for o in objects)


@pytest.mark.slow  # starting `python -m ops_monitor` imports the whole service: seconds
def test_standard_input_is_read_by_a_real_process(run_cli: RunCli) -> None:
    done = run_cli("templates", "-", stdin="\r\n".join(MESSAGES))

    assert done.returncode == 0, done.stderr
    assert len(_objects(done.stdout)) == len(MESSAGES)
    assert "\\r" not in done.stdout


def test_only_newlines_end_a_line_a_lone_carriage_return_is_part_of_it(tmp_path: Path) -> None:
    source = tmp_path / "messages.txt"
    source.write_bytes(b"a 1\rb 2\nc 3\r\nd 4")

    from_file = CliRunner().invoke(cli, ["templates", str(source)])
    from_stdin = CliRunner().invoke(cli, ["templates", "-"], input=source.read_bytes())

    assert from_file.exit_code == 0, from_file.output
    assert [o["template"] for o in _objects(from_file.stdout)] == ["a <*> b <*>", "c <*>", "d <*>"]
    assert from_stdin.stdout == from_file.stdout


def test_no_file_means_standard_input() -> None:
    runner = CliRunner()
    text = "\n".join(MESSAGES)

    assert runner.invoke(cli, ["templates"], input=text).stdout == (
        runner.invoke(cli, ["templates", "-"], input=text).stdout
    )


def test_raw_mode_strips_headers_it_was_not_told_about() -> None:
    lines = [
        f"2024-05-0{i % 9 + 1} 10:00:0{i % 10} {'WARN' if i % 3 else 'INFO'} [pool-{i % 4}] "
        f"app.Auth: {MESSAGES[i % len(MESSAGES)]}"
        for i in range(40)
    ]

    runner = CliRunner()
    raw = runner.invoke(cli, ["templates", "--mode", "raw"], input="\n".join(lines))
    messages = "\n".join(MESSAGES[i % len(MESSAGES)] for i in range(40))
    plain = runner.invoke(cli, ["templates", "-"], input=messages)

    assert raw.exit_code == 0, raw.output
    assert raw.stdout == plain.stdout
    assert len(_objects(raw.stdout)) == 40


def test_a_missing_file_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["templates", str(tmp_path / "absent.log")])

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "absent.log" in captured.err
    assert "Traceback" not in captured.err


def test_an_unknown_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["templates", "--mode", "json", "-"])

    assert status == 2
    assert "--mode" in capsys.readouterr().err


def test_undecodable_bytes_do_not_stop_the_run(tmp_path: Path) -> None:
    source = tmp_path / "mixed.log"
    source.write_bytes(b"ok line 1\n\xff\xfe broken 2\nok line 3\n")

    done = CliRunner().invoke(cli, ["templates", str(source)])

    assert done.exit_code == 0, done.output
    assert len(_objects(done.stdout)) == 3


def test_help_shows_examples() -> None:
    done = CliRunner().invoke(cli, ["templates", "--help"])

    assert done.exit_code == 0
    assert "Examples:" in done.stdout
    assert "--mode raw" in done.stdout
