"""The JSON contract (version 1) other tools parse: see `AuditResult.to_json`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.api import AuditResult


def render(result: AuditResult, color: bool = False) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"
