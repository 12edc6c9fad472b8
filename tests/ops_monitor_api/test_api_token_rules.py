"""`ops-monitor serve` refuses a token that cannot protect it: blank, or short beyond loopback."""

from __future__ import annotations

import pytest

from ops_monitor.cli import main
from ops_monitor.commands.serve import check_exposure


@pytest.mark.parametrize("token", [" ", "   \t ", "\n"])
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_a_whitespace_only_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str, host: str
) -> None:
    monkeypatch.setenv("OPS_MONITOR_TOKEN", token)

    status = main(["serve", "--host", host, "--db", "sqlite:///unused.db"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "OPS_MONITOR_TOKEN is blank (only whitespace)" in err


def test_an_empty_token_beyond_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_TOKEN", "")

    status = main(["serve", "--host", "::", "--db", "sqlite:///unused.db"])

    assert status == 2
    assert "refusing to listen on :: without a token" in capsys.readouterr().err


@pytest.mark.parametrize("token", ["s3cret", "fifteen-chars!!", "  padded-to-16  "])
def test_a_token_shorter_than_16_characters_beyond_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    monkeypatch.setenv("MONITOR_TOKEN", token)

    status = main(["serve", "--host", "10.1.2.3", "--token-env", "MONITOR_TOKEN"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert f"with a {len(token.strip())}-character token" in err
    assert "MONITOR_TOKEN must be at least 16 characters" in err
    assert token.strip() not in err


def test_a_short_token_is_accepted_on_loopback_and_16_characters_anywhere() -> None:
    check_exposure("127.0.0.1", "s3cret", "OPS_MONITOR_TOKEN")
    check_exposure("::1", None, "OPS_MONITOR_TOKEN")
    check_exposure("0.0.0.0", "x" * 16, "OPS_MONITOR_TOKEN")
