"""The gates of this repository, one nox session each; `nox -l` lists them.

Every session installs what it needs into its own virtualenv, so on a fresh machine only nox is
required (`python3 -m pip install --user "nox[uv]"`). uv makes the virtualenvs when it is there;
virtualenv otherwise. Outputs go to `build/`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
BUILD = ROOT / "build"
COVERAGE_TOTAL = "90"
COVERAGE_PATHS = ("ops_monitor/api/**=80",)
SCHEMA_CHECKS = (
    ("vendor.github-workflows", ".github/workflows/ci.yml"),
    ("vendor.github-actions", "action.yml"),
)


def _install(session: nox.Session, *extras: str) -> None:
    """Editable install, so coverage and tracebacks point at the files in this tree."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session
def deps(session: nox.Session) -> None:
    """Install into a clean venv, `pip check`, and list requirements without a lower bound."""
    session.install("pip", "packaging")
    session.run("python", "-m", "pip", "install", "--quiet", ".[dev]")
    session.run("python", "-m", "pip", "check")
    session.run("python", "-c", _UNBOUNDED_REQUIREMENTS, str(ROOT / "pyproject.toml"))


_UNBOUNDED_REQUIREMENTS = """
import sys, tomllib
from packaging.requirements import Requirement
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
groups = {"dependencies": project["dependencies"], **project.get("optional-dependencies", {})}
bad = []
for group, requirements in groups.items():
    for text in requirements:
        requirement = Requirement(text)
        if requirement.name == "readiness-toolkit":
            continue
        if not any(spec.operator in (">=", "==", "~=", ">") for spec in requirement.specifier):
            bad.append(f"{group}: {text} has no lower bound")
        if any(spec.operator == "==" for spec in requirement.specifier):
            bad.append(f"{group}: {text} is pinned exactly; use a lower bound")
print("\\n".join(bad) or "every requirement has a lower bound and none is pinned")
sys.exit(1 if bad else 0)
"""


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, import-linter contracts, workflow and action schemas."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    for schema, path in SCHEMA_CHECKS:
        session.run("check-jsonschema", "--builtin-schema", schema, path)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the packages, the tests, the benchmarks and this file."""
    _install(session, "typecheck")
    session.run("mypy", "--strict", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage: at least 90% total and 80% on ops_monitor/api/."""
    _install(session, "test")
    BUILD.mkdir(exist_ok=True)
    for stale in ROOT.glob(".coverage*"):
        stale.unlink()
    workers = os.environ.get("PYTEST_WORKERS", "auto")
    session.run(
        "pytest",
        "-n",
        workers,
        "--cov",
        "--cov-branch",
        "--cov-report=term",
        "--cov-report=json:coverage.json",
        "--cov-report=xml:coverage.xml",
        f"--cov-fail-under={COVERAGE_TOTAL}",
        "--junitxml=build/junit.xml",
        *session.posargs,
    )
    paths = [argument for path in COVERAGE_PATHS for argument in ("--path", path)]
    session.run("readiness", "gate", "coverage", "coverage.json", "--total", COVERAGE_TOTAL, *paths)


@nox.session
def checks(session: nox.Session) -> None:
    """Our own audit of this repository: text on the terminal, SARIF in build/."""
    _install(session)
    BUILD.mkdir(exist_ok=True)
    session.run(
        "readiness",
        "check",
        "--format",
        "text",
        "--format",
        "sarif",
        "--output",
        "build/checks.sarif",
        *session.posargs,
    )


@nox.session
def readiness(session: nox.Session) -> None:
    """This repository's readiness report (md, html, json) in build/readiness/."""
    _install(session, "lint", "typecheck")
    session.run("readiness", "report", ".", "--out", "build/readiness", "--format", "md,html,json")


@nox.session
def runbooks(session: nox.Session) -> None:
    """Render runbooks/; `nox -s runbooks -- --check` fails on a stale one and shows the diff."""
    _install(session)
    session.run("readiness", "runbooks", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in benchmarks/ and keep their figures in build/bench/<name>.json.

    `nox -s bench` runs every `bench_*.py`; `nox -s bench -- monitor push` runs those by name.
    For a benchmark's own options, run its script directly (`python benchmarks/bench_checks.py -h`).
    """
    _install(session, "bench")
    scripts = {
        path.stem.removeprefix("bench_"): path
        for path in sorted((ROOT / "benchmarks").glob("bench_*.py"))
    }
    if not scripts:
        session.error("no benchmarks found in benchmarks/")
    unknown = sorted(set(session.posargs) - set(scripts))
    if unknown:
        session.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(scripts)}")
    chosen = [scripts[name] for name in session.posargs] or list(scripts.values())
    env = {"BENCH_OUT_DIR": str(BUILD / "bench")}
    for script in chosen:
        session.run("python", str(script.relative_to(ROOT)), env=env)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's main job: a readiness report of the bundled example Workers monorepo.

    The example is built to fail on its planted blockers, so exit 1 (gates failed) is the expected
    outcome; exit 2 or 3 (a plan or internal error) fails the session.
    """
    _install(session)
    out = BUILD / "demo-report"
    if out.exists():
        shutil.rmtree(out)
    session.run(
        "readiness",
        "report",
        "examples/workers-monorepo",
        "--out",
        str(out.relative_to(ROOT)),
        success_codes=[0, 1],
    )
    session.log(f"report written to {out.relative_to(ROOT)}/ (open report.html in a browser)")
