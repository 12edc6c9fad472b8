"""Replace the variable parts of a log message with `<*>` before clustering.

Masking is a pure function of one message: it never depends on what was seen before, so the
same message masks the same way in every process, scan and order. Clustering then only has to
deal with variables that no pattern recognises (user names, host names without digits...).
The patterns are general token classes, not the formats of any particular log.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?"
# Calendar words count as variables only next to a day number, so `May` in prose stays.
_DATE = rf"\b(?:{_WEEKDAY}\s+)?{_MONTH}\s+\d{{1,2}}\b(?:,?\s+\d{{4}}\b)?|\b{_WEEKDAY}(?=\s+\d)"
# Host names: lower-case dotted labels ending in a common top-level domain. File names with an
# extension (`setup.py`, `notes.md`) are not hosts, so extensions that are also country codes
# are left out on purpose.
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|uk|de|fr|jp|cn|ru|br|au|ca|us|nl|it|es|se|ch|"
    "kr|tw|hk|sg|nz|za|pt|be|dk|no|fi|pl|cz|at|ar|mx|tr|gr|ie|il|hu|ro|ua|vn|th|my|id|ph|eu|"
    "local|lan|internal|localdomain|arpa"
)
_HOST = rf"(?<![\w.\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w\-]|\.\w)"

# A number with a unit of size or time, written with a space (`5.2 KB`, `3 seconds`): the unit
# belongs to the value, so `93 B` and `5.2 KB` read the same.
_QUANTITY = (
    r"(?<![\w.])-?\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|B|bytes?|ms|us|ns|secs?|seconds?|minutes?|"
    r"mins?|hours?|hrs?|days?)(?![\w])"
)

# One alternation, tried left to right at each position: the leftmost match wins, and among
# matches at the same position the first listed class wins. Earlier classes are the ones whose
# text would otherwise be cut in pieces by later ones (a URL contains a path and numbers).
_CLASSES: tuple[tuple[str, str], ...] = (
    ("url", r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>()\[\]{}]+"),
    ("email", r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"),
    ("quoted", r"(?<![\w'\"\\])(?:\"[^\"\n]*\"|'[^'\n]*')(?![\w'\"])"),
    (
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
    ),
    (
        "ipv6",
        r"(?<![\w:.])\[?(?=[0-9a-fA-F:]*\d)(?=(?:[0-9a-fA-F]{0,4}:){2})"
        r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:\](?::\d{1,5})?)?(?![\w:])",
    ),
    ("ipv4", r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    ("winpath", r"\b[A-Za-z]:\\[^\s'\"<>|]*"),
    ("path", r"(?<![\w.:/~])(?:~|\.{1,2})?(?:/[\w.\-@%+~,$=]+)+/?"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b"),
    ("date", _DATE),
    ("host", _HOST),
    # Any run of identifier characters that holds a digit: numbers, durations (`15ms`), sizes
    # (`64MB`), versions, block/attempt/container ids, hashes, dates and times.
    ("time", r"(?<![\w:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?![\w:])"),
    ("quantity", _QUANTITY),
    # `key:value` keeps its key: a colon ends a run unless digits follow it (`host:8080`).
    ("digits", r"(?:[\w\-#@+]|\.(?=\w))*\d(?:[\w\-#@+]|\.(?=\w)|:(?=\d))*"),
)
_PATTERN = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in _CLASSES))
_WILDCARD_RUN = re.compile(r"<\*>(?:[\s,;:]*<\*>)+")
_WILDCARD_TOKEN = re.compile(r"^[^\w<]*<\*>[^\w<]*$")


def _replace(match: re.Match[str]) -> str:
    text = match.group(0)
    # Keep the punctuation that surrounds a value (a trailing colon or comma, a leading `-`)
    # so `port 80:` and `port 81:` still share the literal `:`.
    start = len(text) - len(text.lstrip(".:#@+"))
    end = len(text.rstrip(".:#@+,"))
    if start >= end:
        return text
    return f"{text[:start]}{WILDCARD}{text[end:]}"


def mask(message: str) -> str:
    """Return `message` with every recognised variable replaced by `<*>`."""
    return _PATTERN.sub(_replace, message.strip())


def canonical(message: str) -> str:
    """A masked form suited to fingerprints: adjacent wildcards collapse into one.

    Two messages that differ only in how many variable tokens they carry (a list of ids, a
    multi-word value) get the same canonical text.
    """
    return " ".join(_WILDCARD_RUN.sub(WILDCARD, mask(message)).split())


def is_wildcard_token(token: str) -> bool:
    """True for a token that is a wildcard wrapped in punctuation only (`(<*>)`, `<*>,`)."""
    return _WILDCARD_TOKEN.match(token) is not None
