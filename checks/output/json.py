"""The JSON contract (version 1) other tools parse: see `AuditResult.to_json`.

The output is ASCII: a file name that is not UTF-8 appears with each undecodable byte as a
`\\udcXX` escape (Python's `surrogateescape`; `os.fsencode` gives the bytes back).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.api import AuditResult


def render(result: AuditResult, color: bool = False) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"
