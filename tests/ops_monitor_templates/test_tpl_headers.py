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
    starts_dated,
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


def _piped(rng: random.Random) -> str:
    stamp = f"2024{rng.randint(1, 12):02}{rng.randint(1, 28):02}-{rng.randint(10, 23)}:01:02:345"
    return f"{stamp}|{rng.choice(['Sync_Engine', 'StepCounter', 'Auth'])}|{rng.randint(100, 9999)}|"


def _epoch_host_letter(rng: random.Random) -> str:
    node, level = rng.choice(["node-3", "node-17", "edge"]), rng.choice(["I", "W", "E"])
    return f"{rng.randint(1_700_000_000, 1_800_000_000)} {node} {level}"


def _localised_date_host(rng: random.Random) -> str:
    month = rng.choice(["janv.", "févr.", "mars", "avr.", "mai", "juin"])
    return f"{rng.randint(1, 28)} {month} 2024 1{rng.randint(0, 9)}:00:00 {rng.choice(['a', 'b'])}"


@pytest.mark.parametrize(
    "header", [_piped, _epoch_host_letter, _localised_date_host], ids=lambda f: f.__name__
)
def test_headers_of_unknown_layouts_are_learned_from_the_stream(
    header: Callable[[random.Random], str],
) -> None:
    rng = random.Random(header.__name__)
    pairs = [(header(rng), _message(rng)) for _ in range(300)]
    joiner = "" if pairs[0][0].endswith("|") else " "
    lines = [f"{h}{joiner}{m}" for h, m in pairs]

    stripped = list(HeaderStripper().messages(lines))

    assert stripped == [message for _, message in pairs]


def test_a_message_word_that_decides_what_follows_stays_in_the_message() -> None:
    rng = random.Random(4)
    messages = [_message(rng) for _ in range(300)]
    lines = [f"2024-03-01 12:00:{rng.randint(10, 59)} {m}" for m in messages]

    assert list(HeaderStripper().messages(lines)) == messages


def test_a_field_that_travels_with_its_message_is_not_header() -> None:
    rng = random.Random(6)
    components = {"charge": "billing", "cache": "store", "upstream": "proxy", "job": "queue"}
    messages = [m for m in (_message(rng) for _ in range(400)) if m.split()[0] in components]
    lines = [f"10:00:{rng.randint(10, 59)} {components[m.split()[0]]} {m}" for m in messages]

    stripped = list(HeaderStripper().messages(lines))

    assert stripped == [f"{components[m.split()[0]]} {m}" for m in messages]


def test_fields_ended_by_a_bar_are_fields() -> None:
    assert [text for text, _ in fields("20240101-10:00:00|App_1|42|started now")] == [
        "20240101-10:00:00|",
        "App_1|",
        "42|",
        "started",
        "now",
    ]
    assert kind_of("App_1|") is Kind.SEPARATOR
    assert kind_of("03-17") is Kind.NUMBER


@pytest.mark.parametrize(
    ("line", "dated"),
    [
        ("2024-01-01 10:00:00 INFO x", True),
        ("1117838570 node x", True),
        ("[Sun Dec 04 04:47:44 2005] [notice] x", True),
        ("[10.30 16:49:06] chrome.exe - x", True),
        ("Jun 14 15:16:01 combo sshd[1]: x", True),
        ("20171223-22:15:29:606|Step|30002312|x", True),
        ("Decoding failed for 3 frames", False),
        ("May I have the config", False),
        ("[main] worker started", False),
        ("Caused by: java.io.IOException", False),
        ("", False),
    ],
)
def test_a_dated_start_is_told_by_the_header_fields(line: str, dated: bool) -> None:
    assert starts_dated(line) is dated


def test_continuation_lines_do_not_outvote_the_records() -> None:
    rng = random.Random(10)
    lines: list[str] = []
    expected: list[str] = []
    for _ in range(200):
        header, message = _iso(rng), _message(rng)
        lines.append(f"{header} {message}")
        expected.append(message)
        if rng.random() < 0.4:  # a stack trace after many records
            trace = ["\tat app.Worker.run(Worker.java:42)", "Caused by: java.io.IOException: x"]
            lines += trace
            expected += [line.strip() for line in trace]

    assert list(HeaderStripper().messages(lines)) == expected
