"""`readiness check` (also `python -m checks`): audit a repository and report findings."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from checks.cli_support import UserError, run

EXAMPLES = """\b
Examples:
  readiness check                         audit the current repository
  readiness check examples/workers-monorepo --format sarif --output checks.sarif
  readiness check --format text --format json --output findings.json
  readiness check apps/base/worker/index.ts orchestrator/wrangler.toml   (as pre-commit does)
  readiness check --write-baseline .readiness-baseline.json
  readiness check --baseline .readiness-baseline.json --diff-base origin/main
  readiness check --list-rules
  readiness check --explain db-ops-access

\b
Exit status: 0 clean, 1 a finding at or above the fail threshold, 2 usage or configuration error.
"""

_FORMAT_FLAGS = ("--format", "-f")
_OUTPUT_FLAGS = ("--output", "-o")


def _pair_outputs(args: Sequence[str]) -> list[tuple[str, str | None]]:
    """(format, output) in command-line order: an --output belongs to the --format before it."""
    pairs: list[list[str | None]] = []
    pending_output: str | None = None
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        flag, _, inline = arg.partition("=")
        if flag in (*_FORMAT_FLAGS, *_OUTPUT_FLAGS):
            value = inline if inline else (items[i + 1] if i + 1 < len(items) else "")
            i += 1 if inline else 2
            if flag in _FORMAT_FLAGS:
                pairs.append([value, pending_output])
                pending_output = None
            elif pairs and pairs[-1][1] is None:
                pairs[-1][1] = value
            else:
                pending_output = value
            continue
        if arg == "--":
            break
        i += 1
    if pending_output is not None:
        pairs.append(["text", pending_output])
    return [(str(fmt), out) for fmt, out in pairs] or [("text", None)]


class _CheckCommand(click.Command):
    """Remembers the order of --format/--output, which click's multiple options lose."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["checks.outputs"] = _pair_outputs(args)
        return super().parse_args(ctx, args)


def _list_rules() -> None:
    from checks.registry import rules

    width = max(len(rule.id) for rule in rules())
    for rule in rules():
        click.echo(f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.title}")


def _explain(rule_id: str) -> None:
    from checks.registry import get_rule, rule_ids

    rule = get_rule(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (known: {', '.join(rule_ids())})")
    click.echo(f"# {rule.id}: {rule.docs}")


def _root_and_paths(paths: tuple[Path, ...], root: Path | None) -> tuple[Path, list[Path]]:
    """One directory argument is the tree to audit; files (as pre-commit passes them) narrow a
    run of the current directory (or --root)."""
    if root is None and len(paths) == 1 and paths[0].is_dir():
        return paths[0], []
    base = root if root is not None else Path.cwd()
    return base, [p if p.is_absolute() else (Path.cwd() / p) for p in paths]


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp{os.getpid()}")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    except OSError as error:
        raise UserError(f"{output}: cannot write: {error.strerror}") from None


@click.command("check", cls=_CheckCommand, epilog=EXAMPLES)
@click.version_option(package_name="readiness-toolkit", prog_name="readiness check")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["text", "json", "sarif", "github"]),
    help="Output format; repeat for several (default: text).",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    help="File for the --format before it (default: standard output).",
)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Tree to audit.")
@click.option("--select", multiple=True, help="Only these rule ids (repeat or comma-separate).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Config file.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Report only findings not in it.")
@click.option(
    "--write-baseline", type=click.Path(path_type=Path), help="Record current findings and exit 0."
)
@click.option("--diff-base", metavar="REF", help="Report only findings on lines changed since REF.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the analysis cache.")
@click.option("--fix", is_flag=True, help="Apply the rules' safe autofixes, then report the rest.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.option("--explain", metavar="ID", help="Print a rule's documentation and exit.")
@click.pass_context
def check(ctx: click.Context, /, paths: tuple[Path, ...], debug: bool, **options: Any) -> int:
    """Audit PATHS (default: the current directory) with the readiness rules."""
    if options["list_rules"]:
        _list_rules()
        return 0
    if options["explain"]:
        _explain(options["explain"])
        return 0
    from checks.api import audit

    root, targets = _root_and_paths(paths, options["root"])
    select = [s.strip() for item in options["select"] for s in item.split(",") if s.strip()]
    arguments: dict[str, Any] = {
        "select": select or None,
        "config_file": options["config_file"],
        "diff_base": options["diff_base"],
        "use_cache": not options["no_cache"],
    }
    if options["write_baseline"] is not None:
        from checks import baseline

        result = audit(root, targets, **arguments)
        baseline.write(options["write_baseline"], result.findings)
        click.echo(f"wrote {len(result.findings)} finding(s) to {options['write_baseline']}")
        return 0
    result = audit(root, targets, baseline=options["baseline"], **arguments)
    if options["fix"]:
        from checks.fixes import apply_fixes

        changed = apply_fixes(result, options["config_file"])
        for path in changed:
            click.echo(f"fixed {path}", err=True)
        if changed:
            result = audit(root, targets, baseline=options["baseline"], **arguments)
    from checks.output import renderer

    for name, output in ctx.meta.get("checks.outputs") or [("text", None)]:
        color = name == "text" and output is None and sys.stdout.isatty()
        _write(renderer(name)(result, color), output)
    return 1 if result.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(check, argv, prog_name="readiness check")
