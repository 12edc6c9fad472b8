"""How precise is `syntax-error` on real code that compiles, and does it still catch real errors?

Installs the published sources of popular npm packages (which ship `.ts`, `.d.ts` and `.js` that
their own builds compiled) into a temporary directory, runs the rule over every file, and prints:
how many files tree-sitter alone rejects, how many the rule reports with the TypeScript parser as
its second opinion and with the known-gaps fallback, how many of those the TypeScript parser
itself rejects (precision), and the recall on copies of sampled files with a planted error.

    python benchmarks/syntax_precision.py                  # default package set, temporary dir
    python benchmarks/syntax_precision.py --dir /tmp/corpus --packages zod hono
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from figures import record

from checks.model import Finding
from checks.parsing import language_for
from checks.rules import syntax_error
from checks.rules._typescript_parser import typescript_diagnostics
from checks.source import SourceFile

PACKAGES = (
    "zod",
    "hono",
    "drizzle-orm",
    "@cloudflare/workers-types",
    "rxjs",
    "date-fns",
    "type-fest",
    "effect",
    "valibot",
    "@tanstack/query-core",
    "typescript",
)
PLANTED = ("\nif\n", "\nconst = ;\n", "\nfunction broken( {\n", "\nexport default {\n")


def install(directory: Path, packages: list[str]) -> None:
    (directory / "package.json").write_text('{"name": "corpus", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "--ignore-scripts", *packages],
        cwd=directory,
        check=True,
    )


def corpus_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        language = language_for(path.name)
        if language is not None and language != "python" and path.is_file():
            yield path


def source(path: Path, root: Path, text: str | None = None) -> SourceFile | None:
    data = path.read_bytes() if text is None else text.encode("utf-8")
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SourceFile(path.relative_to(root).as_posix(), path, data, decoded)


def run(
    files: list[Path], root: Path, options: syntax_error.Options
) -> tuple[list[Finding], float]:
    started = time.perf_counter()
    findings: list[Finding] = []
    for path in files:
        file = source(path, root)
        if file is not None:
            findings.extend(syntax_error.check_file(file, options))
    return findings, time.perf_counter() - started


def compiler_rejects(finding: Finding, root: Path, typescript: str) -> bool:
    """The TypeScript parser's own verdict on a reported file (the ground truth here)."""
    file = source(root / finding.path, root)
    if file is None:
        return False
    verdict = typescript_diagnostics(file, "node", typescript, install=True)
    return bool(verdict)


def recall(
    files: list[Path], root: Path, options: syntax_error.Options, sample: int, verbose: bool = False
) -> tuple[int, int]:
    """Plant one error in copies of sampled files that parse; count how many the rule reports."""
    rng = random.Random(4)
    clean = [path for path in files if path.stat().st_size < 200_000]
    caught = planted = 0
    picked = rng.sample(clean, min(sample, len(clean)))
    for path in picked:
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        at = rng.randrange(len(lines) + 1)
        broken = "".join(lines[:at]) + rng.choice(PLANTED) + "".join(lines[at:])
        file = source(path, root, broken)
        if file is None or not typescript_diagnostics(file, "node", "", install=True):
            continue  # the plant landed in a comment or string: not an error after all
        planted += 1
        if syntax_error.check_file(file, options):
            caught += 1
        elif verbose:
            print(f"  missed planted error: {file.path} line {at + 1}", file=sys.stderr)
    return caught, planted


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="reuse (or fill) this corpus directory")
    parser.add_argument("--packages", nargs="*", default=list(PACKAGES))
    parser.add_argument("--recall-sample", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="syntax-corpus-") as scratch:
        directory: Path = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / "node_modules").is_dir():
            install(directory, args.packages)
        root = directory / "node_modules"
        files = list(corpus_files(root))
        typescript = ""  # the rule's own pinned copy in the tool cache (installed once)
        confirmed = syntax_error.Options()
        fallback = syntax_error.Options(node="")

        flagged = sum(1 for path in files if _tree_sitter_rejects(path, root))
        found, seconds = run(files, root, confirmed)
        found_fallback, seconds_fallback = run(files, root, fallback)
        real = sum(compiler_rejects(f, root, typescript) for f in found)
        real_fallback = sum(compiler_rejects(f, root, typescript) for f in found_fallback)
        caught, planted = recall(files, root, confirmed, args.recall_sample, verbose=True)
        caught_fb, planted_fb = recall(files, root, fallback, args.recall_sample)

        lines = sum(path.read_bytes().count(b"\n") for path in files)
        report: dict[str, object] = {
            "files": len(files),
            "lines": lines,
            "tree_sitter_alone_flagged": flagged,
            "with_typescript": {
                "reported": len(found),
                "compiler_agrees": real,
                "false_alarms": len(found) - real,
                "precision_on_corpus": percent(real, len(found)),
                "precision_with_planted": percent(real + caught, len(found) + caught),
                "seconds": round(seconds, 2),
                "recall_on_planted": f"{caught}/{planted}",
            },
            "known_gaps_fallback": {
                "reported": len(found_fallback),
                "compiler_agrees": real_fallback,
                "false_alarms": len(found_fallback) - real_fallback,
                "precision_on_corpus": percent(real_fallback, len(found_fallback)),
                "precision_with_planted": percent(
                    real_fallback + caught_fb, len(found_fallback) + caught_fb
                ),
                "seconds": round(seconds_fallback, 2),
                "recall_on_planted": f"{caught_fb}/{planted_fb}",
            },
        }
        _print(report, found, found_fallback, real_fallback, lambda f: print(f"  {f}"))
    record("syntax_precision", report)
    return 0


def _tree_sitter_rejects(path: Path, root: Path) -> bool:
    file = source(path, root)
    return file is not None and file.tree is not None and file.tree.root_node.has_error


def _print(
    report: dict[str, object],
    found: list[Finding],
    found_fallback: list[Finding],
    real_fallback: int,
    echo: Callable[[str], None],
) -> None:
    print(json.dumps(report, indent=2))
    for finding in found:
        echo(f"reported with typescript: {finding.path}:{finding.line} {finding.message}")
    if real_fallback < len(found_fallback):
        for finding in found_fallback[:20]:
            echo(f"reported by the fallback: {finding.path}:{finding.line} {finding.message}")


if __name__ == "__main__":
    sys.exit(main())
