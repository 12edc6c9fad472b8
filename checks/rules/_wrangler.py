"""Reading Wrangler config (TOML, JSON, JSONC) with the source lines of the values rules report.

tomllib and json5 give values but no positions, so a value's line is found by searching the text
for its quoted literal after the key that holds it: simple, and right for the short strings
(cron expressions, binding names) rules point at.

A config is whatever someone committed: any key may hold any type. Readers here check the type at
every level and skip what they do not understand, so one odd file never stops the audit.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from checks.rules import _jsonc

WRANGLER_FILES = ("wrangler.toml", "wrangler.json", "wrangler.jsonc")


class ConfigError(ValueError):
    """The config file does not parse."""


def load(name: str, text: str) -> dict[str, Any]:
    """The parsed config of a file called `name`; raises ConfigError when it does not parse."""
    try:
        data = tomllib.loads(text) if name.endswith(".toml") else _jsonc.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise ConfigError(
            str(error).splitlines()[0] if str(error) else type(error).__name__
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("the top level is not a table/object")
    return data


@dataclass(frozen=True)
class Located:
    """A string value with the 1-based line and column of its opening quote."""

    value: str
    line: int
    column: int


def position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class Locator:
    """Finds the text positions of successive string values that follow a key."""

    def __init__(self, text: str, key: str) -> None:
        self.text = text
        self._key = re.compile(rf"""(?:^|[\s{{,"'])["']?{re.escape(key)}["']?\s*[=:]""", re.M)
        self._used: set[int] = set()

    def _key_offsets(self) -> list[int]:
        return [match.end() for match in self._key.finditer(self.text)] or [0]

    def locate(self, value: str) -> Located:
        quoted = re.compile(f"""["']{re.escape(value)}["']""")
        for start in self._key_offsets():
            for match in quoted.finditer(self.text, start):
                if match.start() not in self._used:
                    self._used.add(match.start())
                    return Located(value, *position(self.text, match.start()))
        offsets = self._key_offsets()
        return Located(value, *position(self.text, offsets[0]))


def environments(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level table and every `env.<name>` table that is a table (others are skipped)."""
    found = [config]
    named = config.get("env")
    if isinstance(named, dict):
        found += [table for table in named.values() if isinstance(table, dict)]
    return found


def entries(table: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The tables in the array `table[key]` (`d1_databases`, ...); [] for any other shape."""
    value = table.get(key)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def printable(value: str) -> str:
    """`value` with lone surrogates (JSON allows `"\\ud800"`) escaped: messages must encode."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def cron_triggers(config: dict[str, Any], text: str) -> list[Located]:
    """Every `triggers.crons` entry, top level and per environment, with its position."""
    locator = Locator(text, "crons")
    found: list[Located] = []
    for table in environments(config):
        triggers = table.get("triggers")
        crons = triggers.get("crons") if isinstance(triggers, dict) else None
        if isinstance(crons, list):
            found += [locator.locate(printable(cron)) for cron in crons if isinstance(cron, str)]
    return found


def crons_key_line(text: str) -> int:
    match = re.search(r"""["']?crons["']?\s*[=:]""", text)
    return position(text, match.start())[0] if match else 1
