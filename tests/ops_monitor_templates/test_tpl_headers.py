"""Raw mode: headers of formats written for these tests are found and stripped, untold."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from ops_monitor.analysis.headers import (
    HeaderStripper,
    Kind,
    fields,
    kind_of,
    learn_header_fields,
    strip_header,
)

MESSAGES = [
    "charge {n} failed for account {m}",
    "cache miss for key user:{n}",
    "upstream timed out after {n}s",
    "job {n} done in {m}ms",
    "ACPI: table loaded at {n}",
    "reload requested by operator",
    "queue depth is {n}",
    "[retry] scheduling attempt {n} of {m}",
    "config: using defaults",
]


def _message(rng: random.Random) -> str:
    return rng.choice(MESSAGES).format(n=rng.randint(1, 999), m=rng.randint(1, 99))


def _iso(rng: random.Random) -> str:
    level = rng.choice(["INFO", "WARN", "ERROR", "DEBUG"])
    worker = rng.randint(1, 9)
    stamp = f"2024-03-0{rng.randint(1, 9)}T12:0{rng.randint(0, 9)}:00.123Z"
    return f"{stamp} {level} [worker-{worker}] billing.Invoice:"


def _syslog(rng: random.Random) -> str:
    day = rng.randint(1, 28)
    host, pid = f"web-{rng.randint(1, 3)}", rng.randint(100, 9999)
    return f"Mar {day:>2} 12:00:{rng.randint(10, 59)} {host} nginx[{pid}]:"


def _bracketed(rng: random.Random) -> str:
    level = rng.choice(["error", "notice", "warn"])
    return f"[Tue Mar 0{rng.randint(1, 9)} 12:00:01 2024] [{level}]"


def _numeric(rng: random.Random) -> str:
    return f"{rng.randint(1000, 9999)} 1709294{rng.randint(100, 999)} INFO  queue.Worker -"


FORMATS: dict[str, Callable[[random.Random], str]] = {
    "iso-level-thread-logger": _iso,
    "syslog": _syslog,
    "bracketed-date-and-level": _bracketed,
    "pid-epoch-level-logger-dash": _numeric,
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_headers_are_stripped_without_being_told_the_format(name: str) -> None:
    rng = random.Random(name)
    pairs = [(FORMATS[name](rng), _message(rng)) for _ in range(300)]
    lines = [f"{header} {message}" for header, message in pairs]

    stripped = list(HeaderStripper().messages(lines))

    assert stripped == [message for _, message in pairs]


def test_messages_without_headers_are_left_alone() -> None:
    rng = random.Random(3)
    messages = [_message(rng) for _ in range(100)]

    assert list(HeaderStripper().messages(messages)) == messages
    assert learn_header_fields(messages) == 0
    assert learn_header_fields([]) == 0


def test_a_line_that_does_not_fit_the_learned_header_keeps_its_message() -> None:
    rng = random.Random(5)
    lines = [f"{_syslog(rng)} {_message(rng)}" for _ in range(50)]
    odd = "Mar  9 12:00:01 web-1 kernel 2.6.1: restart."

    stripped = list(HeaderStripper(learning_lines=20).messages([*lines, odd]))

    assert stripped[-1] == "web-1 kernel 2.6.1: restart."


def test_fewer_lines_than_the_learning_window_are_still_stripped() -> None:
    lines = ["2024-01-01 10:00:00 INFO app: started", "2024-01-01 10:00:01 INFO app: ready"]

    assert list(HeaderStripper().messages(lines)) == ["started", "ready"]


def test_strip_header_uses_the_longest_candidate_up_to_the_learned_length() -> None:
    line = "2024-01-01 10:00:00 INFO app: started"

    assert strip_header(line, 4) == "started"
    assert strip_header(line, 3) == "app: started"
    assert strip_header(line, 0) == line


def test_bracketed_groups_are_one_field() -> None:
    found = fields("[Sun Dec 04 04:47:44 2005] [notice] [a[b]c] (x y) <z w> {k v} rest of it")

    assert [text for text, _ in found] == [
        "[Sun Dec 04 04:47:44 2005]",
        "[notice]",
        "[a[b]c]",
        "(x y)",
        "<z w>",
        "{k v}",
        "rest",
        "of",
        "it",
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("WARN", Kind.LEVEL),
        ("[error]", Kind.LEVEL),
        ("<info>", Kind.LEVEL),
        ("-", Kind.SEPARATOR),
        ("[Sun Dec 04 04:47:44 2005]", Kind.TIMESTAMP),
        ("[main]", Kind.BRACKET),
        ("2015-10-18", Kind.TIMESTAMP),
        ("17/06/09", Kind.TIMESTAMP),
        ("18:01:47,978", Kind.TIMESTAMP),
        ("2005-06-03-15.42.50.675872", Kind.TIMESTAMP),
        ("1117838570", Kind.TIMESTAMP),
        ("Jul", Kind.TIMESTAMP),
        ("148", Kind.NUMBER),
        ("sshd[24200]:", Kind.NAME),
        ("dfs.DataNode$PacketResponder:", Kind.NAME),
        ("web-1", Kind.WORD),
        ("std::vector", Kind.WORD),
    ],
)
def test_fields_are_classified_by_shape(text: str, kind: Kind) -> None:
    assert kind_of(text) is kind


def test_varied_hosts_and_process_names_still_fit_one_layout() -> None:
    rng = random.Random(9)
    hosts = ["web-1", "db", "cache.local", "x_y", "edge7", "a.b.c", "node-12-b"]
    names = ["kernel:", "sshd(pam_unix)[17]:", "cron[5]:", "app.worker:", "x-y[2]:", "z_1:"]
    pairs = [
        (
            f"Mar {rng.randint(1, 28)} 12:00:{rng.randint(10, 59)} {rng.choice(hosts)} "
            f"{rng.choice(names)}",
            _message(rng),
        )
        for _ in range(300)
    ]
    long_line = "Mar 3 12:00:01 db kernel: " + " ".join(f"w{i}" for i in range(30))

    stripped = list(HeaderStripper().messages([f"{h} {m}" for h, m in pairs] + [long_line]))

    assert stripped[:-1] == [message for _, message in pairs]
    assert stripped[-1].startswith("w0 w1")
