"""`readiness check` (also `python -m checks`): audit a repository and report findings."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from checks.cli_support import UserError, printable, run
from checks.files import find_root

EXAMPLES = """\b
Examples:
  readiness check                         audit the current repository
  readiness check apps/base               only apps/base, with the repository's config and paths
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


def _pair_outputs(occurrences: Sequence[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """(format, output) in command-line order: an --output belongs to the --format before it,
    or, given first, to the next one; an --output with no --format at all is text."""
    pairs: list[list[str | None]] = []
    pending_output: str | None = None
    for kind, value in occurrences:
        if kind == "formats":
            pairs.append([value, pending_output])
            pending_output = None
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = value
        else:
            pending_output = value
    if pending_output is not None:
        pairs.append(["text", pending_output])
    return [(str(fmt), out) for fmt, out in pairs] or [("text", None)]


class _CheckCommand(click.Command):
    """Remembers the order of --format/--output, which click's multiple options lose: click's
    own parser reads the arguments (so `-fjson`, `--format=json` and `-o x` all work) and
    reports each option occurrence in order."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            opts, _, order = self.make_parser(ctx).parse_args(args=list(args))
        except click.UsageError:
            return super().parse_args(ctx, args)  # click reports it (or, completing, ignores it)
        values = {name: iter(opts.get(name) or ()) for name in ("formats", "outputs")}
        occurrences = [
            (param.name, str(next(values[param.name]))) for param in order if param.name in values
        ]
        ctx.meta["checks.outputs"] = _pair_outputs(occurrences)
        return super().parse_args(ctx, args)


def _list_rules() -> None:
    from checks.registry import rules

    width = max(len(rule.id) for rule in rules())
    for rule in rules():
        click.echo(f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.title}")


def _explain(rule_id: str) -> None:
    from checks.registry import get_rule, rule_ids
    from checks.suppression import ENGINE_RULES

    rule = get_rule(rule_id)
    if rule is not None:
        click.echo(f"# {rule.id}: {rule.docs}")
    elif rule_id in ENGINE_RULES:  # reported by the engine about suppression comments
        click.echo(f"# {rule_id}: {ENGINE_RULES[rule_id][1].strip()}")
    else:
        known = ", ".join([*rule_ids(), *ENGINE_RULES])
        raise click.UsageError(f"unknown rule {rule_id!r} (known: {known})")


def _root_and_paths(paths: tuple[Path, ...], root: Path | None) -> tuple[Path, list[Path]]:
    """The audited root and the PATH filters. Without --root, the root is found walking up from
    the one directory argument (else the current directory) to our config or `.git`, so owner
    paths, config and fingerprints do not depend on where the command runs. PATHs are relative
    to the current directory (as pre-commit passes them), else to the root."""
    cwd = Path.cwd()
    if root is None:
        start = paths[0] if len(paths) == 1 and paths[0].is_dir() else cwd
        root = find_root(start)
    else:
        root = cwd / root
    filters = []
    for path in paths:
        if path.is_absolute() or (cwd / path).exists() or not (root / path).exists():
            filters.append(cwd / path)
        else:
            filters.append(root / path)
    resolved = root.resolve()
    if any(path.resolve() == resolved for path in filters):
        return root, []  # the whole tree: no filter
    return root, filters


def _write(text: str, output: str | None) -> None:
    text = printable(text)
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
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Tree to audit (default: the nearest directory with readiness.yaml or .git).",
)
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
    """Audit the repository with the readiness rules; PATHS (files or directories) narrow the
    run. The root is the nearest directory at or above the one directory given (else the current
    directory) with readiness.yaml, a pyproject [tool.readiness] table or .git."""
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
