"""The rules this engine knows, and the contract a rule module fulfils.

Adding a rule is one module in `checks/rules/` plus one line in `RULE_MODULES` below.

A rule module `checks/rules/<id_with_underscores>.py` provides:

- a docstring that is its Markdown documentation: first line the title, then sections
  `## What`, `## Why`, `## How to fix`, `## Example` (`--explain ID` prints it, runbooks render it);
- `ID` (kebab-case), `TITLE`, `SEVERITY` (a `checks.model.Severity`);
- `Options`: a dataclass whose defaults fit a Workers monorepo with no configuration; config
  `[tool.readiness.rules.<id>]` (or `checks.rules.<id>` in readiness.yaml) sets its fields;
- optional `FILES`: glob patterns on file names (or on paths, when the pattern has a '/') the rule
  looks at; default: the TypeScript, JavaScript and Python suffixes the parsers know;
- optional `PREFILTER`: words a file must contain for the rule to look at it at all;
- optional `VERSION` (int): bump it when the rule's logic changes, to invalidate cached results;
- then EITHER `check(file: SourceFile, options) -> Iterable[Finding]` (a per-file rule: run
  in parallel, cached per file content), OR
  `check_repo(repo: Repository, options) -> Iterable[Finding]` (a repo rule: reads config
  across the tree; runs every time, on cached per-file facts);
- optional `extract(file: SourceFile, options) -> JSON value | None` (repo rules only): per-file
  facts gathered in the parallel, cached phase and read back with `repo.facts(ID)`;
- optional `prepare(root: Path, options) -> None`: called when a cold audit starts analysing
  many files in worker processes, to start a slow helper (a compiler process) in a background
  thread while files are parsed;
- optional `fix(repo: Repository, finding: Finding, options) -> bool` for `--fix`: rewrite the file
  safely (atomically, keeping formatting) and return True when it changed something.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from checks.model import Finding, Severity
from checks.repository import Repository
from checks.source import SourceFile

RULE_MODULES: tuple[str, ...] = (
    "checks.rules.db_ops_access",
    "checks.rules.syntax_error",
    "checks.rules.tsconfig_jsx",
    "checks.rules.cron_handler",
    "checks.rules.missing_dependency",
)

DEFAULT_FILES: tuple[str, ...] = (
    "*.ts",
    "*.mts",
    "*.cts",
    "*.tsx",
    "*.js",
    "*.jsx",
    "*.mjs",
    "*.cjs",
    "*.py",
)


@dataclass(frozen=True)
class Rule:
    """A loaded rule module, with the metadata the engine, the CLI and the runbooks need."""

    id: str
    title: str
    severity: Severity
    docs: str
    module: ModuleType
    files: tuple[str, ...]
    prefilter: tuple[str, ...]
    version: int

    @property
    def options_type(self) -> type[Any]:
        options: type[Any] = self.module.Options
        return options

    @property
    def per_file(self) -> bool:
        return hasattr(self.module, "check")

    @property
    def check(self) -> Callable[[SourceFile, Any], Iterable[Finding]]:
        function: Callable[[SourceFile, Any], Iterable[Finding]] = self.module.check
        return function

    @property
    def check_repo(self) -> Callable[[Repository, Any], Iterable[Finding]]:
        function: Callable[[Repository, Any], Iterable[Finding]] = self.module.check_repo
        return function

    @property
    def extract(self) -> Callable[[SourceFile, Any], Any] | None:
        function: Callable[[SourceFile, Any], Any] | None = getattr(self.module, "extract", None)
        return function

    @property
    def prepare(self) -> Callable[[Path, Any], None] | None:
        function: Callable[[Path, Any], None] | None = getattr(self.module, "prepare", None)
        return function

    @property
    def fix(self) -> Callable[[Repository, Finding, Any], bool] | None:
        function: Callable[[Repository, Finding, Any], bool] | None = getattr(
            self.module, "fix", None
        )
        return function

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self.options_type))

    def default_options(self) -> Any:
        return self.options_type()


def load_rule(module_name: str) -> Rule:
    """Import one rule module and check it fulfils the contract (a broken rule fails loudly)."""
    module = importlib.import_module(module_name)
    missing = [name for name in ("ID", "TITLE", "SEVERITY", "Options") if not hasattr(module, name)]
    has_check = hasattr(module, "check") or hasattr(module, "check_repo")
    if missing or not has_check or not module.__doc__:
        parts = [*missing, *([] if has_check else ["check or check_repo"])]
        parts += [] if module.__doc__ else ["docstring"]
        raise TypeError(f"rule module {module_name} lacks {', '.join(parts)}")
    if not (isinstance(module.Options, type) and is_dataclass(module.Options)):
        raise TypeError(f"rule module {module_name}: Options must be a dataclass")
    if module_name.rsplit(".", 1)[-1].replace("_", "-") != module.ID:
        raise TypeError(f"rule module {module_name}: its name must be its ID {module.ID!r}")
    return Rule(
        id=module.ID,
        title=module.TITLE,
        severity=Severity(module.SEVERITY),
        docs=module.__doc__.strip(),
        module=module,
        files=tuple(getattr(module, "FILES", DEFAULT_FILES)),
        prefilter=tuple(getattr(module, "PREFILTER", ())),
        version=int(getattr(module, "VERSION", 1)),
    )


@cache
def _all_rules() -> tuple[Rule, ...]:
    return tuple(load_rule(name) for name in RULE_MODULES)


def rules() -> list[Rule]:
    """Every registered rule, in registry order."""
    return list(_all_rules())


def rule_ids() -> list[str]:
    """Every registered rule id, without importing a rule (module name = id, '_' for '-')."""
    return [name.rsplit(".", 1)[-1].replace("_", "-") for name in RULE_MODULES]


@cache
def _rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in _all_rules()}


def get_rule(rule_id: str) -> Rule | None:
    return _rules_by_id().get(rule_id)
