"""`readiness check` (also `python -m checks`): audit a repository and report findings."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from checks.cli_support import UserError, printable, run
from checks.files import find_root

if TYPE_CHECKING:
    from checks.output import Renderer
    from checks.typescript_cache import Observed

EXAMPLES = """\b
Examples:
  readiness check                         audit the current repository
  readiness check apps/base               only apps/base, with the repository's config and paths
  readiness check examples/workers-monorepo --format sarif --output checks.sarif
  readiness check --format text --format json --output findings.json
  readiness check apps/base/worker/index.ts orchestrator/wrangler.toml   (as pre-commit does)
  readiness check --write-baseline .readiness-baseline.json
  readiness check --baseline .readiness-baseline.json --diff-base origin/main
  readiness check --baseline origin/main:.readiness-baseline.json
  readiness check --statistics            count per rule, most first
  readiness check --output-style grouped  findings grouped by file, with source lines
  readiness check --severity error --exit-zero --extend-exclude 'legacy/**'
  readiness check --list-rules
  readiness check --explain db-ops-access

\b
Exit status: 0 clean (or --exit-zero), 1 a finding at or above the fail threshold, 2 usage or
configuration error.
"""

SEVERITIES = click.Choice(["note", "warning", "error"])


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
    """Every rule, including the engine's own about suppression comments."""
    from checks.model import Severity
    from checks.registry import rules
    from checks.suppression import ENGINE_RULES

    listed = [(rule.id, rule.severity.value, rule.title) for rule in rules()]
    listed += [
        (rule_id, Severity.WARNING.value, title) for rule_id, (title, _) in ENGINE_RULES.items()
    ]
    width = max(len(rule_id) for rule_id, _, _ in listed)
    for rule_id, severity, title in listed:
        click.echo(f"{rule_id:<{width}}  {severity:<7}  {title}")


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


def _to_stdout(output: str | None) -> bool:
    return output is None or output == "-"


def _check_outputs(outputs: Sequence[tuple[str, str | None]]) -> None:
    """Refuse what would mix documents on stdout or write into a directory that is not there."""
    on_stdout = [name for name, output in outputs if output is None]  # `-o -` is deliberate
    if len(on_stdout) > 1:
        raise click.UsageError(
            f"{' and '.join('--format ' + name for name in on_stdout)} would all go to standard"
            " output;"
            " give all but one an --output FILE"
        )
    for _, output in outputs:
        if not _to_stdout(output):
            _check_directory(Path(str(output)), "--output")


def _check_directory(target: Path, option: str) -> None:
    if not target.parent.is_dir():
        raise UserError(f"{option} {target}: cannot write: no directory {target.parent}")


def _write(text: str, output: str | None) -> None:
    text = printable(text)
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
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
    type=click.Choice(["text", "concise", "json", "sarif", "github"]),
    help="Output format; repeat for several, one on stdout (default: text).",
)
@click.option(
    "--output-style",
    type=click.Choice(["concise", "grouped"]),
    default="concise",
    show_default=True,
    help="Text: one line per finding, or grouped by file with source lines.",
)
@click.option("--statistics", is_flag=True, help="Text: the count of each rule, most first.")
@click.option("-v", "--verbose", is_flag=True, help="List skipped files and notes on stderr.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach the threshold.")
@click.option("--severity", type=SEVERITIES, help="Report only findings at or above this.")
@click.option("--fail-on", type=SEVERITIES, help="Exit 1 on findings at or above this.")
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Replace the configured excludes (repeat or comma-separate).",
)
@click.option("--extend-exclude", multiple=True, metavar="GLOB", help="Add to the excludes.")
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
@click.option(
    "--baseline",
    metavar="FILE|REF:PATH",
    help="Report only findings not in it: a file, or one committed at a git REF.",
)
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
    from checks.model import Severity

    outputs = ctx.meta.get("checks.outputs") or [("text", None)]
    _check_outputs(outputs)
    root, targets = _root_and_paths(paths, options["root"])
    exclude = _split(options["exclude"])
    arguments: dict[str, Any] = {
        "select": _split(options["select"]) or None,
        "config_file": options["config_file"],
        "diff_base": options["diff_base"],
        "use_cache": not options["no_cache"],
        "exclude": exclude or None,
        "extend_exclude": _split(options["extend_exclude"]),
        "fail_on": Severity(options["fail_on"]) if options["fail_on"] else None,
        "severity": Severity(options["severity"]) if options["severity"] else None,
    }
    if options["write_baseline"] is not None:
        from checks import baseline

        _check_directory(options["write_baseline"], "--write-baseline")
        result = audit(root, targets, **arguments)  # every finding, whatever is configured
        baseline.write(options["write_baseline"], result.findings)
        click.echo(f"wrote {len(result.findings)} finding(s) to {options['write_baseline']}")
        return 0
    typescript = _typescript_state()
    arguments["configured_baseline"] = True
    result = audit(root, targets, baseline=options["baseline"], **arguments)
    _say_typescript_installed(typescript)
    if options["fix"]:
        from checks.fixes import apply_fixes

        changed = apply_fixes(result, options["config_file"])
        for path in changed:
            click.echo(f"fixed {path}", err=True)
        if changed:
            result = audit(root, targets, baseline=options["baseline"], **arguments)
    for name, output in outputs:
        color = name in ("text", "concise") and output is None and sys.stdout.isatty()
        _write(_render(name, options)(result, color), output)
    if options["verbose"]:
        from checks.output.text import verbose_notes

        for line in verbose_notes(result):
            click.echo(printable(line), err=True)
    return 1 if result.failed and not options["exit_zero"] else 0


def _split(values: Sequence[str]) -> list[str]:
    """Repeated and comma-separated values, as `--select a,b --select c` gives them."""
    return [part.strip() for item in values for part in item.split(",") if part.strip()]


def _render(name: str, options: dict[str, Any]) -> Renderer:
    from checks.output import renderer

    if name not in ("text", "concise"):
        return renderer(name)
    from checks.output import text

    if options["statistics"]:
        return text.statistics
    if name == "text" and options["output_style"] == "grouped":
        return text.grouped
    return text.render


def _typescript_state() -> Observed:
    """The tool's own TypeScript copies before the audit, which may install one: the run that
    does says so, once, on stderr."""
    from checks.typescript_cache import observe

    return observe()


def _say_typescript_installed(before: Observed) -> None:
    from checks.typescript_cache import observe

    after = observe()
    if after == before:
        return
    from checks.typescript import change_notice

    message = change_notice(before, after)
    if message:
        click.echo(f"readiness: {message}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    return run(check, argv, prog_name="readiness check")
