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
from collections.abc import Callable
from typing import Any

import json5

_STRING = r'"(?:[^"\\\n]|\\.)*"'
# A string (kept) or a comment (a blank: `1/**/2` must not become `12`).
_COMMENTS = re.compile(rf"(?P<string>{_STRING})|//[^\n]*|/\*.*?\*/", re.DOTALL)
# A comma with no value before it (`{,}`, `[1,,2]`): JSON5 refuses it, so must we.
_STRAY_COMMA = re.compile(rf"(?P<string>{_STRING})|[\[{{,]\s*,")
# A string (kept) or a comma followed only by blanks before a closing bracket (dropped).
_TRAILING = re.compile(rf"(?P<string>{_STRING})|,(?=\s*[\]}}])")


def _keep_strings(blank: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        string = match.group("string")
        return blank if string is None else string

    return replace


def _plain_json(text: str) -> str | None:
    """`text` without comments and trailing commas, or None when it has a stray comma."""
    uncommented = _COMMENTS.sub(_keep_strings(" "), text)
    if any(match.group("string") is None for match in _STRAY_COMMA.finditer(uncommented)):
        return None
    return _TRAILING.sub(_keep_strings(""), uncommented)


def loads(text: str) -> Any:
    """The value of a JSONC (or JSON5) text; raises ValueError like `json5.loads`."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    plain = _plain_json(text)
    if plain is not None:
        try:
            # A JSON5 single-quoted string keeps at least its opening quote through the
            # removal, so `json` still fails on it and `json5` reads the original.
            return json.loads(plain)
        except ValueError:
            pass
    return json5.loads(text)
