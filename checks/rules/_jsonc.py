"""JSON with comments and trailing commas (tsconfig, wrangler.jsonc), read at C speed.

`json5` reads everything these files may hold, but it is pure Python: about 14 ms for a small
tsconfig, which made reading a monorepo's configs cost more than parsing its sources. Almost
every such file is JSON plus comments and trailing commas; those are removed (strings kept
intact) and the rest goes to the standard `json` module. Anything else JSON5 allows (single
quotes, unquoted keys, hexadecimal numbers) makes `json` fail, and `json5` then decides, so the
value is always the one `json5` would give.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5

# A string (kept), a comment (dropped) or a comma followed only by blanks and comments before a
# closing bracket (dropped).
_TOKENS = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<trailing>,(?=(?:\s|//[^\n]*|/\*.*?\*/)*[\]}]))",
    re.DOTALL,
)


def _plain(match: re.Match[str]) -> str:
    if match.group("string") is not None:
        return match.group("string")
    if match.group("comment") is not None:
        return " "  # a comment separates tokens: `1/**/2` must not become `12`
    return ""


def loads(text: str) -> Any:
    """The value of a JSONC (or JSON5) text; raises ValueError like `json5.loads`."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        # A JSON5 single-quoted string keeps at least its opening quote through the removal,
        # so `json` still fails on it and `json5` reads the original.
        return json.loads(_TOKENS.sub(_plain, text))
    except ValueError:
        return json5.loads(text)
