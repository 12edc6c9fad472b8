"""One module per output format, each with `render(result, color=False) -> str`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.api import AuditResult

FORMATS = ("text", "json", "sarif", "github")

Renderer = Callable[["AuditResult", bool], str]


def renderer(name: str) -> Renderer:
    """The render function of a format, imported on demand (rich only loads for text)."""
    module = importlib.import_module(f"checks.output.{name}")
    render: Renderer = module.render
    return render
