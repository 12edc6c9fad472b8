"""The Workers' cron triggers of a repository, read as the `cron-handler` rule reads them.

For tools that act on the triggers rather than audit them (`readiness monitors sync` declares one
cron monitor per trigger): the same discovery (excluded trees skipped), the same Wrangler parsing
(TOML, JSON, JSONC; top level and every environment) and the same cron validation.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from checks.config import load as load_config
from checks.files import discover
from checks.rules._wrangler import WRANGLER_FILES, ConfigError, cron_triggers, load
from checks.rules.cron_handler import invalid_reason


@dataclass(frozen=True)
class CronTrigger:
    """One cron a Worker's Wrangler config fires; `problem` says why it is invalid, if it is."""

    worker: str  # the config's `name`, or its directory when it has none
    cron: str
    config_path: str  # POSIX, relative to the root
    line: int
    problem: str | None = None


def repository_cron_triggers(root: Path, config_file: Path | None = None) -> list[CronTrigger]:
    """Every (worker, cron) of the tree at `root`, once each, in path order. A config that does
    not parse is skipped (the audit reports it)."""
    config = load_config(root, config_file)
    found: list[CronTrigger] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(discover(root, config.excludes)):
        if posixpath.basename(path) not in WRANGLER_FILES:
            continue
        try:
            text = (root / path).read_text(encoding="utf-8")
            parsed = load(path, text)
        except (OSError, UnicodeDecodeError, ConfigError):
            continue
        name = parsed.get("name")
        worker = name if isinstance(name, str) and name else posixpath.dirname(path) or "."
        for cron in cron_triggers(parsed, text):
            if (worker, cron.value) in seen:
                continue
            seen.add((worker, cron.value))
            found.append(
                CronTrigger(worker, cron.value, path, cron.line, invalid_reason(cron.value))
            )
    return found
