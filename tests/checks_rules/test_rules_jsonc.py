"""JSONC read by the json module gives what json5 gives; json5 still decides the rest."""

from __future__ import annotations

from collections.abc import Callable

import json5
import pytest

from checks.repository import recording, shared
from checks.rules import _jsonc

TEXTS = [
    '{"compilerOptions": {"jsx": "react-jsx"}}',
    '// top\n{\n  "a": 1, // one\n  /* two */ "b": [1, 2,],\n}\n',
    '{"url": "https://example.com/*not a comment*/", "glob": "src/**/*.ts",}',
    '{"quote": "a \\" // still a string", "n": 1e3}',
    "{'single': 'quoted', unquoted: 0x10,}",
    '{"a": 1 /* between */, "b": 2}',
    '{"a": [1, /* c */ 2 // d\n , ]}',
]
REFUSED = ['{"a": }', "{,}", "[1,,2]", "[ // c\n , ]", '{"a": 1 "b": 2}', "", "/* open"]


def error_of(load: Callable[[str], object], text: str) -> str:
    try:
        load(text)
    except ValueError as error:
        return str(error)
    return "accepted"


@pytest.mark.parametrize("text", TEXTS)
def test_the_value_is_the_one_json5_gives(text: str) -> None:
    assert _jsonc.loads(text) == json5.loads(text)


@pytest.mark.parametrize("text", REFUSED)
def test_what_json5_refuses_is_refused_with_its_message(text: str) -> None:
    assert error_of(_jsonc.loads, text) == error_of(json5.loads, text) != "accepted"


def test_a_shared_fact_is_computed_once_per_run_and_afresh_in_the_next() -> None:
    calls: list[str] = []

    def compute() -> str:
        calls.append("computed")
        return "value"

    with recording():
        first = [shared("key", compute), shared("key", compute)]
    with recording():
        second = shared("key", compute)
    outside = [shared("key", compute), shared("key", compute)]

    assert (first, second, outside) == (["value"] * 2, "value", ["value"] * 2)
    assert len(calls) == 4  # once in each run, then every time outside a run
