"""`readiness check`: the audit of `checks` (its rules, config and output formats), offered under
the `readiness` command group; `python -m checks` is the same command."""

from __future__ import annotations

from checks.cli import check

__all__ = ["check"]
