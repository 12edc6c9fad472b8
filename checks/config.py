"""The audit's configuration: `[tool.readiness]` in pyproject.toml (its `plan` sub-table belongs
to the readiness plan; `[tool.readiness.checks]` is accepted too), or `checks:` in
readiness.yaml (whose other top-level keys, the plan, belong to someone else).

Every key is checked here, once, so a typo is an error naming the key and the file instead of a
setting that silently does nothing.

    checks:
      select: [db-ops-access, syntax-error]      # default: every rule
      ignore:                                   # rules switched off, each with its reason
        - {rule: missing-dependency, reason: "vendored packages are declared elsewhere"}
      exclude: [node_modules, dist]             # replaces the default excludes
      extend-exclude: [legacy/**]               # adds to them
      fail-on: warning                          # note | warning | error
      baseline: .readiness-baseline.json        # or REF:PATH (origin/main:.readiness-baseline.json)
      rules:
        db-ops-access: {owner_paths: ["orchestrator/**", "ops/**"]}
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from checks.cli_support import UserError
from checks.files import DEFAULT_EXCLUDES
from checks.model import Severity
from checks.registry import Rule, get_rule, rule_ids

KEYS = ("select", "ignore", "exclude", "extend-exclude", "fail-on", "rules", "baseline")
# Sub-tables of `[tool.readiness]` that are not checks settings: the plan's, and our own.
_TOML_SUBTABLES = ("plan", "checks")


@dataclass
class Config:
    select: list[str] | None = None
    ignore: dict[str, str] = field(default_factory=dict)
    excludes: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    fail_on: Severity = Severity.WARNING
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None
    baseline: str | None = None  # a file relative to the root, or REF:PATH

    def options_for(self, rule: Rule) -> Any:
        """The rule's `Options`, defaults overridden by config (validated at load time)."""
        return rule.options_type(**self.rule_options.get(rule.id, {}))


def _fail(where: str, key: str, problem: str) -> UserError:
    return UserError(f"{where}: {key}: {problem}")


def _string_list(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(where, key, "expected a list of strings")
    return list(value)


def _known_rule(rule_id: Any, where: str, key: str) -> str:
    if not isinstance(rule_id, str) or get_rule(rule_id) is None:
        raise _fail(where, key, f"unknown rule {rule_id!r} (known: {', '.join(rule_ids())})")
    return rule_id


def _coerce(value: Any, hint: Any, where: str, key: str) -> Any:
    """Check a config value against an Options field's type (str, int, bool, float, tuples and
    lists of those); lists become tuples where the field is a tuple."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        item_hint = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        if not isinstance(value, list):
            raise _fail(where, key, "expected a list")
        items = [_coerce(item, item_hint, where, key) for item in value]
        return tuple(items) if origin is tuple else items
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is type(None) and value is None:
                return None
            try:
                return _coerce(value, option, where, key)
            except UserError:
                continue
        raise _fail(where, key, f"expected {hint}")
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise _fail(where, key, f"expected {hint.__name__}, got {type(value).__name__}")
    return value


def _rule_options(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _fail(where, "rules", "expected a table of rule ids")
    options: dict[str, dict[str, Any]] = {}
    for rule_id, settings in value.items():
        key = f"rules.{rule_id}"
        rule = get_rule(_known_rule(rule_id, where, key))
        assert rule is not None  # noqa: S101 - _known_rule has checked it
        if not isinstance(settings, dict):
            raise _fail(where, key, "expected a table of options")
        hints = typing.get_type_hints(rule.options_type)
        names = {f.name for f in fields(rule.options_type)}
        converted = {}
        for name, setting in settings.items():
            option = str(name).replace("-", "_")
            if option not in names:
                known = ", ".join(sorted(names)) or "none"
                raise _fail(where, f"{key}.{name}", f"unknown option (known: {known})")
            converted[option] = _coerce(setting, hints[option], where, f"{key}.{name}")
        options[rule_id] = converted
    return options


def _ignores(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, list):
        raise _fail(where, "ignore", "expected a list of {rule, reason}")
    ignored = {}
    for index, item in enumerate(value):
        key = f"ignore[{index}]"
        if not isinstance(item, dict) or set(item) - {"rule", "reason"}:
            raise _fail(where, key, "expected {rule: ID, reason: WHY}")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise _fail(where, key, "a reason is required")
        ignored[_known_rule(item.get("rule"), where, key + ".rule")] = reason.strip()
    return ignored


def parse_section(section: Any, where: str) -> Config:
    """Validate one `checks` section (already parsed from TOML or YAML)."""
    config = Config()
    if section is None:
        return config
    if not isinstance(section, dict):
        raise _fail(where, "checks", "expected a table")
    for key, value in section.items():
        if key not in KEYS:
            raise _fail(where, str(key), f"unknown key (known: {', '.join(KEYS)})")
        if key == "select":
            config.select = [_known_rule(r, where, key) for r in _string_list(value, where, key)]
            if not config.select:
                raise UserError(f"{where}: select is empty: no rule would run")
        elif key == "ignore":
            config.ignore = _ignores(value, where)
        elif key == "exclude":
            config.excludes = _string_list(value, where, key)
        elif key == "extend-exclude":
            config.excludes = [*config.excludes, *_string_list(value, where, key)]
        elif key == "fail-on":
            try:
                config.fail_on = Severity(value)
            except ValueError:
                raise _fail(where, key, "expected note, warning or error") from None
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                raise _fail(where, key, "expected a file or REF:PATH")
            config.baseline = value.strip()
        else:
            config.rule_options = _rule_options(value, where)
    return config


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte {error.start})") from None


def _toml_section(path: Path, text: str) -> tuple[Any, str]:
    """The checks settings of a pyproject-style file and where they are (for messages): the
    keys of `[tool.readiness]` but its `plan`, or `[tool.readiness.checks]`; never both."""
    import tomllib

    where = str(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{where}: invalid TOML: {error}") from None
    tool = document.get("tool")
    if tool is None:
        return None, where
    if not isinstance(tool, dict):
        raise _fail(where, "tool", "expected a table")
    table = tool.get("readiness")
    if table is None:
        return None, where
    if not isinstance(table, dict):
        raise _fail(where, "tool.readiness", "expected a table")
    own = {key: value for key, value in table.items() if key not in _TOML_SUBTABLES}
    nested = table.get("checks")
    if nested is None:
        return (own or None), f"{where} [tool.readiness]"
    if not isinstance(nested, dict):
        raise _fail(where, "tool.readiness.checks", "expected a table")
    if own:
        raise UserError(
            f"{where}: checks settings in both [tool.readiness] ({', '.join(own)}) and"
            " [tool.readiness.checks]; keep them in one"
        )
    return nested, f"{where} [tool.readiness.checks]"


def _yaml_section(path: Path, text: str) -> tuple[Any, str]:
    """The `checks:` section of readiness.yaml; a checks key at the top level (where the plan
    lives) is an error rather than a setting that silently does nothing."""
    import yaml

    where = str(path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(f"{where}{line}: invalid YAML") from None
    if not isinstance(document, dict):
        return None, where
    misplaced = [str(key) for key in document if key in KEYS]
    if misplaced:
        raise _fail(where, misplaced[0], "a checks setting: put it under 'checks:'")
    return document.get("checks"), where


def _section_of(path: Path) -> tuple[Any, str]:
    """The raw checks settings of a config file (None when it has none) and how to name them."""
    text = _read_text(path)
    if path.suffix == ".toml":
        return _toml_section(path, text)
    return _yaml_section(path, text)


def load(root: Path, config_file: Path | None = None) -> Config:
    """The config for an audit of `root`: `config_file` if given, else the first of
    `readiness.yaml`, `readiness.yml` and `pyproject.toml` at the root that has a checks
    section."""
    if config_file is not None:
        if not config_file.is_file():
            raise UserError(f"{config_file}: config file not found")
        section, where = _section_of(config_file)
        config = parse_section(section, where)
        config.source = config_file
        return config
    for name in ("readiness.yaml", "readiness.yml", "pyproject.toml"):
        candidate = root / name
        if candidate.is_file():
            section, where = _section_of(candidate)
            if section is not None:
                config = parse_section(section, where)
                config.source = candidate
                return config
    return Config()
