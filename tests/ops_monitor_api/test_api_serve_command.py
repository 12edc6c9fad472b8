"""`ops-monitor serve` refuses to listen beyond loopback without a token, in one line, exit 2."""

from __future__ import annotations

import pytest

from ops_monitor.cli import main
from ops_monitor.commands.serve import is_loopback, load_settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("monitor.internal", False),
    ],
)
def test_loopback_hosts_are_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serving_on_all_interfaces_without_a_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPS_MONITOR_TOKEN", raising=False)

    status = main(["serve", "--host", "0.0.0.0", "--db", "sqlite:///unused.db"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "refusing to listen on 0.0.0.0 without a token: set OPS_MONITOR_TOKEN" in err


def test_the_token_variable_can_be_renamed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPS_MONITOR_TOKEN", raising=False)
    monkeypatch.delenv("MONITOR_TOKEN", raising=False)

    status = main(["serve", "--host", "10.0.0.5", "--token-env", "MONITOR_TOKEN"])
    monkeypatch.setenv("MONITOR_TOKEN", "s3cret")
    settings = load_settings("sqlite:///x.db", "10.0.0.5", 9000, "MONITOR_TOKEN")

    assert status == 2
    assert "set MONITOR_TOKEN" in capsys.readouterr().err
    assert (settings.token, settings.host, settings.port, settings.db_url) == (
        "s3cret",
        "10.0.0.5",
        9000,
        "sqlite:///x.db",
    )


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    assert "Examples:" in capsys.readouterr().out


def test_a_bad_configuration_value_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_MAX_PUSH_BYTES", "lots")

    status = main(["serve"])

    assert status == 2
    assert "OPS_MONITOR_MAX_PUSH_BYTES" in capsys.readouterr().err
