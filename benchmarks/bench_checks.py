"""How fast is `readiness check`, and is it right, against ast-grep, semgrep, ripgrep and the
tree-sitter floor, on the same tree in the same run?

Two corpora:

- `--corpus real` (default): a Workers-style monorepo of real published TypeScript and
  JavaScript (`real_corpus.py`: npm tarballs fetched into `build/npm/`, laid out and committed
  in `build/real-mono/`), over 5,000 source files and 560k lines;
- `--corpus synthetic`: a generated monorepo (default 5,000 TS/JS/Python files, about 500k
  lines) with a known number of planted direct `DB_OPS` uses among decoys (comments, strings,
  `DB_OPS_BACKUP`, the orchestrator that owns the binding, a committed `node_modules` and
  `venv`), so the db-ops-access count is checked against the planted truth.

It prints, side by side: our audit cold (all rules, `--no-cache`, TypeScript already in the tool
cache), each rule alone cold, warm with no change, warm after editing one file, a pre-commit
style run on 10 files, the first run ever (empty tool cache: TypeScript is installed) against
cold plus the install alone, `ast-grep scan` and semgrep with an equivalent db-ops-access rule,
`rg DB_OPS`, and a tree-sitter parse of every audited file in one process (the floor); wall and
CPU seconds, peak RSS, ratios and PASS/MISS per target. The machine may be shared: every timed
row is the best of `--runs`, and the ratios compare rows of the same run.

    python benchmarks/bench_checks.py                      # the real corpus
    python benchmarks/bench_checks.py --corpus synthetic --files 1000 --keep /tmp/mono
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from figures import record
from real_corpus import build, sources

APPS = 50
PLANTED_TS = (
    "  const rows = await env.DB_OPS.prepare('SELECT 1').all();",
    "  const maybe = env?.DB_OPS;",
    '  const byName = env["DB_OPS"];',
    "  const { DB_OPS } = env;",
    "  const { DB_OPS: ops } = env;",
    "  const db = drizzle(\n    env\n      .DB_OPS,\n  );",
    "  const mine = this.env.DB_OPS;",
)
PLANTED_PY = "    db = self.env.DB_OPS"
DECOYS_TS = (
    "  // DB_OPS belongs to the orchestrator; use env.ORCHESTRATOR_OPS_MONITOR",
    '  const note = "env.DB_OPS is restricted";',
    "  const backup = env.DB_OPS_BACKUP;",
)

SEMGREP_RULE = """\
rules:
  - id: db-ops-access
    languages: [typescript, javascript]
    severity: ERROR
    message: DB_OPS used directly; use ORCHESTRATOR_OPS_MONITOR
    paths: {exclude: ["orchestrator/"]}
    pattern-either:
      - pattern: $X.DB_OPS
      - pattern: $X?.DB_OPS
      - pattern: $X["DB_OPS"]
      - pattern: "const {..., DB_OPS, ...} = $X;"
      - pattern: "const {..., DB_OPS: $Y, ...} = $X;"
  - id: db-ops-access-python
    languages: [python]
    severity: ERROR
    message: DB_OPS used directly; use OpsMonitorClient
    paths: {exclude: ["orchestrator/"]}
    pattern-either:
      - pattern: $X.DB_OPS
      - pattern: getattr($X, "DB_OPS")
"""
SEMGREP_IGNORE = "node_modules/\nvenv/\n.venv/\n.wrangler/\ndist/\nbuild/\nthird_party/\n"

_AST_GREP_LANGUAGE_RULE = """\
id: db-ops-access-{language}
language: {language}
severity: error
message: DB_OPS used directly; use ORCHESTRATOR_OPS_MONITOR
ignores: ["**/node_modules/**", "**/dist/**", "**/build/**", "**/third_party/**", "orchestrator/**"]
rule:
  any:
    - pattern: $X.DB_OPS
    - pattern: $X?.DB_OPS
    - pattern: $X["DB_OPS"]
    - kind: shorthand_property_identifier_pattern
      regex: ^DB_OPS$
    - kind: pair_pattern
      has:
        field: key
        regex: ^DB_OPS$
"""
AST_GREP_RULES = "---\n".join(
    _AST_GREP_LANGUAGE_RULE.format(language=language)
    for language in ("TypeScript", "Tsx", "JavaScript")
)


def _ts_block(i: int, k: int, typed: bool) -> list[str]:
    signature = f"(input: Input{i}, env: Env): Promise<number>" if typed else "(input, env)"
    return [
        f"export async function handle{i}x{k}{signature} {{",
        "  const values = [1, 2, 3].map((v) => v * input.count);",
        "  let total = 0;",
        "  for (const value of values) {",
        "    total += value;",
        "  }",
        "  if (total > 10) {",
        "    console.log(`total ${total} for ${input.id}`);",
        "  }",
        "  return total + helper(input.id.length);",
        "}",
        "",
    ]


def _py_block(i: int, k: int) -> list[str]:
    return [
        f"def handle_{i}_{k}(values: list[int]) -> int:",
        "    total = 0",
        "    for value in values:",
        "        total += value * 2",
        "    if total > 10:",
        '        print(f"total {total}")',
        "    return total",
        "",
    ]


def _source(i: int, lines: int, plant: str | None, decoy: bool, python: bool, typed: bool) -> str:
    if python:
        out = ["import json", "", ""]
        k = 0
        while len(out) < lines:
            out += _py_block(i, k)
            k += 1
        if plant:
            out += ["class Worker:", "    def fetch(self):", plant, "        return db", ""]
        if decoy:
            out += ["# self.env.DB_OPS is restricted", 'NAME = "DB_OPS"', ""]
        return "\n".join(out) + "\n"
    out = [
        'import { z } from "zod";',
        'import { helper } from "./util";',
        "",
        f"export interface Input{i} {{ id: string; count: number }}" if typed else "",
        "",
    ]
    k = 0
    while len(out) < lines:
        out += _ts_block(i, k, typed)
        k += 1
    body = []
    if plant:
        body.append(plant)
    if decoy:
        body += list(DECOYS_TS)
    if body:
        params = "this: Worker, env: Env" if typed else "env"
        out += [f"export async function usesEnv{i}({params}) {{", *body, "}", ""]
    return "\n".join(out) + "\n"


def generate(root: Path, files: int, lines: int) -> int:
    """Write the monorepo, commit it, and return the planted number of direct uses."""
    planted = 0
    for n in range(files):
        app = f"apps/app{n % APPS:02d}"
        python = (n // APPS) % 10 == 7
        suffix = ".py" if python else (".js", ".ts", ".ts", ".mjs")[n % 4]
        directory = "src" if python else "worker"
        path = root / app / directory / f"m{n // APPS:04d}{suffix}"
        plant = None
        if n % 25 == 3:
            plant = PLANTED_PY if python else PLANTED_TS[(n // 25) % len(PLANTED_TS)]
            planted += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _source(n, lines, plant, n % 10 == 1, python, suffix == ".ts")
        path.write_text(text, encoding="utf-8")
    for a in range(APPS):
        app_dir = root / f"apps/app{a:02d}"
        (app_dir / "worker").mkdir(parents=True, exist_ok=True)
        (app_dir / "worker" / "util.ts").write_text(
            "export const helper = (n: number): number => n + 1;\n", encoding="utf-8"
        )
        package = {"name": f"app{a}", "dependencies": {"zod": "^3", "drizzle-orm": "^0.30"}}
        (app_dir / "package.json").write_text(json.dumps(package), encoding="utf-8")
        (app_dir / "wrangler.toml").write_text(
            f'name = "app{a}"\n[[d1_databases]]\nbinding = "DB_APP"\n', encoding="utf-8"
        )
    owner = root / "orchestrator" / "worker"
    owner.mkdir(parents=True)
    (owner / "index.ts").write_text(
        "export default {\n  async fetch(r: Request, env: Env) {\n"
        "    return env.DB_OPS.prepare('1');\n  },\n};\n",
        encoding="utf-8",
    )
    (root / "orchestrator" / "package.json").write_text('{"name": "orchestrator"}', "utf-8")
    for n in range(200):
        vendored = root / f"apps/app{n % APPS:02d}/node_modules/pkg{n}/index.js"
        vendored.parent.mkdir(parents=True, exist_ok=True)
        vendored.write_text("module.exports = (env) => env.DB_OPS;\n", encoding="utf-8")
    for n in range(100):
        site = root / f"venv/lib/python3.11/site-packages/mod{n}.py"
        site.parent.mkdir(parents=True, exist_ok=True)
        site.write_text("def f(env):\n    return env.DB_OPS\n", encoding="utf-8")
    (root / "package.json").write_text(json.dumps({"name": "mono", "private": True}), "utf-8")
    (root / ".semgrepignore").write_text(SEMGREP_IGNORE, encoding="utf-8")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--no-gpg-sign", "-m", "synthetic"], cwd=root, check=True)
    return planted


@dataclass
class Measured:
    seconds: float
    cpu: float  # user + system seconds of the whole process tree
    peak_rss_mb: float
    stdout: str
    returncode: int
    timed_out: bool = False


def measure(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, cap: float | None = None
) -> Measured:
    """Wall and CPU time and peak RSS (largest process of the tree, via wait4) of one command;
    past `cap` seconds the command is killed and marked as timed out."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env or dict(os.environ),
            start_new_session=True,
        )
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(cap, kill) if cap is not None else None
        if timer is not None:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if timer is not None:
            timer.cancel()
        timed_out = expired.is_set()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(elapsed, cpu, usage.ru_maxrss / 1024, text, process.returncode, timed_out)


def best(argv: list[str], cwd: Path, env: dict[str, str], runs: int) -> Measured:
    return min((measure(argv, cwd, env) for _ in range(runs)), key=lambda m: m.seconds)


def db_ops_count(json_text: str) -> int:
    findings = json.loads(json_text)["findings"]
    return sum(1 for f in findings if f["rule"] == "db-ops-access")


def findings_of(measured: Measured) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(measured.stdout)["findings"]
    return found


@dataclass
class Row:
    name: str
    run: Measured
    found: str = "-"


class Table:
    """The rows of one run and the targets they are held to."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.targets: list[tuple[str, bool | None, str]] = []

    def add(self, name: str, run: Measured, found: str = "-") -> Measured:
        self.rows.append(Row(name, run, found))
        print(f"  {name}: {_seconds(run)} s", flush=True)
        return run

    def target(self, text: str, met: bool | None, detail: str) -> None:
        self.targets.append((text, met, detail))

    def print(self, truth: str) -> None:
        print()
        header = f"{'run':<50} {'wall s':>8} {'cpu s':>7} {'RSS MB':>7} {'found':>6} {'truth':>6}"
        print(header)
        for row in self.rows:
            run = row.run
            print(
                f"{row.name:<50} {_seconds(run):>8} {run.cpu:>7.2f} {run.peak_rss_mb:>7.1f} "
                f"{row.found:>6} {truth if row.found != '-' else '-':>6}"
            )
        print()
        for text, met, detail in self.targets:
            verdict = "n/a " if met is None else ("PASS" if met else "MISS")
            print(f"{verdict}  {text:<58} {detail}")


def _seconds(run: Measured) -> str:
    return f"> {run.seconds:.1f}" if run.timed_out else f"{run.seconds:.3f}"


def _tool(name: str, candidates: list[str], hint: str) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    print(f"{name}: MISSING, its rows are left out ({hint})")
    return None


def prepare(args: argparse.Namespace, workdir: Path) -> tuple[Path, str, list[str]]:
    """The tree to audit, the planted truth ('-' for the real corpus) and ten files to audit
    as a pre-commit hook would."""
    if args.corpus == "real":
        root = build()
        files = sources(root)
        ten = [path for path in files if path.endswith(".ts") and "/src/" in path][:10]
        return root, "-", ten
    root = args.keep or workdir / "mono"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    planted = generate(root, args.files, args.lines)
    ten = sorted(str(p.relative_to(root)) for p in (root / "apps").rglob("m000*.ts"))[:10]
    return root, str(planted), ten


def edit_one_file(
    root: Path, path: str, runs: int, argv: list[str], env: dict[str, str]
) -> Measured:
    """Best of `runs` warm audits, each after appending a different line to one file (the
    cache is warmed again between them, untimed)."""
    target = root / path
    original = target.read_bytes()
    timings = []
    try:
        for n in range(runs):
            target.write_bytes(original + f"export const edited{n} = {n};\n".encode())
            timings.append(measure(argv, root, env))
            measure(argv, root, env)  # settle: the next edit starts from a warm cache
    finally:
        target.write_bytes(original)
        subprocess.run(["git", "checkout", "-q", "--", path], cwd=root, check=False)
    return min(timings, key=lambda m: m.seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("real", "synthetic"), default="real")
    parser.add_argument("--files", type=int, default=5000, help="synthetic: files")
    parser.add_argument("--lines", type=int, default=100, help="synthetic: lines per file")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each timed row")
    parser.add_argument("--keep", type=Path, help="synthetic: generate into this directory")
    parser.add_argument("--semgrep-cap", type=float, default=120.0, help="seconds")
    parser.add_argument("--no-semgrep", action="store_true")
    parser.add_argument("--no-first-run", action="store_true", help="skip the install row")
    parser.add_argument(
        "--reference", type=Path, help="findings JSON the cold run must equal (before/after)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    root, truth, ten = prepare(args, workdir)
    audited = sources(root)
    total_lines = sum((root / p).read_bytes().count(b"\n") for p in audited)
    print(f"tree ({args.corpus}): {root}, {len(audited)} source files, {total_lines} lines")

    cache = workdir / "cache"
    env = {**os.environ, "READINESS_CACHE_DIR": str(cache)}
    here = Path(__file__).resolve().parent
    ours = [sys.executable, "-m", "checks", "--root", str(root), "--format", "json"]
    table = Table()
    runs = args.runs

    floor = table.add(
        "tree-sitter parse of every file, one process (floor)",
        best([sys.executable, str(here / "parse_floor.py"), str(root)], root, env, runs),
    )
    cold = table.add(
        "readiness check --no-cache, all rules", best([*ours, "--no-cache"], root, env, runs)
    )
    count = str(db_ops_count(cold.stdout))
    table.rows[-1].found = count
    alone: dict[str, Measured] = {}
    for rule in (
        "db-ops-access",
        "syntax-error",
        "tsconfig-jsx",
        "cron-handler",
        "missing-dependency",
    ):
        argv = [*ours, "--no-cache", "--select", rule]
        alone[rule] = table.add(f"  the same, {rule} alone", best(argv, root, env, runs))
    measure(ours, root, env)  # fill the cache
    warm = table.add("readiness check, warm, no change", best(ours, root, env, runs))
    edited_path = next(p for p in audited if p.endswith(".ts") and "/lib/" in p)
    edited = table.add(
        "readiness check, warm, one file edited", edit_one_file(root, edited_path, runs, ours, env)
    )
    pre_commit = table.add(
        "readiness check, 10 files (warm cache)",
        best([*ours, *[str(root / p) for p in ten]], root, env, runs),
    )
    first = install = None
    if not args.no_first_run:
        # Both rows start from an empty npm cache too, so neither downloads less than the other.
        fresh = {
            **env,
            "XDG_CACHE_HOME": str(workdir / "xdg"),
            "READINESS_CACHE_DIR": str(workdir / "c2"),
            "npm_config_cache": str(workdir / "npm-cache-first-run"),
        }
        first = table.add(
            "readiness check, first run ever (installs TypeScript)",
            measure([*ours, "--no-cache"], root, fresh),
        )
        npm = shutil.which("npm")
        if npm is not None:
            prefix = workdir / "npm-install"
            prefix.mkdir()
            (prefix / "package.json").write_text('{"private": true}\n', encoding="utf-8")
            argv = [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--ignore-scripts",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--silent",
                "typescript@5.9.3",
            ]
            npm_env = {**env, "npm_config_cache": str(workdir / "npm-cache-install-alone")}
            install = table.add("  npm install typescript alone", measure(argv, prefix, npm_env))

    rg = _tool("rg", ["rg"], "apt-get install -y ripgrep")
    rg_run = None
    if rg is not None:
        rg_run = table.add(
            "rg -c DB_OPS", best([rg, "--no-messages", "-c", "DB_OPS", "."], root, env, runs)
        )
    ast_grep = _tool(
        "ast-grep",
        [str(Path(sys.executable).parent / "ast-grep"), "ast-grep"],
        "pip install ast-grep-cli (the bench extra)",
    )
    ast_grep_run = None
    if ast_grep is not None:
        rules = workdir / "ast-grep-rule.yml"
        rules.write_text(AST_GREP_RULES, encoding="utf-8")
        argv = [ast_grep, "scan", "--rule", str(rules), "--json=compact", "."]
        ast_grep_run = table.add("ast-grep scan, db-ops-access only", best(argv, root, env, runs))
        try:
            matches = json.loads(ast_grep_run.stdout or "[]")
            table.rows[-1].found = str(
                len({(m["file"], m["range"]["start"]["line"]) for m in matches})
            )
        except (ValueError, KeyError, TypeError):
            print(f"ast-grep: could not read its output (exit {ast_grep_run.returncode})")
    semgrep_run = None
    uvx = _tool(
        "uvx", ["uvx", str(Path.home() / ".local/bin/uvx")], "pip install uv; semgrep runs with uvx"
    )
    if args.no_semgrep:
        print("semgrep: skipped (--no-semgrep)")
    elif uvx is not None:
        semgrep_rule = workdir / "semgrep.yaml"
        semgrep_rule.write_text(SEMGREP_RULE, encoding="utf-8")
        if not (root / ".semgrepignore").exists():
            (root / ".semgrepignore").write_text(SEMGREP_IGNORE, encoding="utf-8")
        argv = [uvx, "--from", "semgrep", "semgrep", "--metrics=off", "--quiet", "--json"]
        measure([*argv, "--version"], root, env)  # install outside the timing
        semgrep_run = table.add(
            "semgrep, db-ops-access only",
            measure([*argv, "--config", str(semgrep_rule), "."], root, env, cap=args.semgrep_cap),
        )
        if not semgrep_run.timed_out:
            try:
                results = json.loads(semgrep_run.stdout)["results"]
                table.rows[-1].found = str(len({(r["path"], r["start"]["line"]) for r in results}))
            except (ValueError, KeyError):
                print(f"semgrep: could not run (exit {semgrep_run.returncode})")
                semgrep_run = None

    ratio = cold.seconds / floor.seconds
    detail = f"{ratio:.2f}x (CPU {cold.cpu / floor.cpu:.2f}x)"
    table.target("cold all rules <= 1.5x the parse-only floor", ratio <= 1.5, detail)
    if ast_grep_run is not None:
        ratio = cold.seconds / ast_grep_run.seconds
        detail = f"{ratio:.2f}x (CPU {cold.cpu / ast_grep_run.cpu:.2f}x)"
        table.target("cold all rules <= 2x ast-grep's one-rule scan", ratio <= 2, detail)
    if semgrep_run is not None:
        speedup = semgrep_run.seconds / cold.seconds
        shown = (
            f"> {speedup:.1f}x (semgrep hit the cap)"
            if semgrep_run.timed_out
            else f"{speedup:.1f}x"
        )
        table.target("cold all rules >= 10x faster than semgrep's one rule", speedup >= 10, shown)
    slowest_rule = max(alone, key=lambda rule: alone[rule].seconds)
    ratio = cold.seconds / alone[slowest_rule].seconds
    cpu_ratio = cold.cpu / alone[slowest_rule].cpu
    detail = f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x; {slowest_rule})"
    table.target("all rules <= 1.3x the slowest rule alone", ratio <= 1.3, detail)
    if rg_run is not None:
        budget = 2 * rg_run.seconds + 0.3
        table.target(
            "warm, no change <= 2x rg + 0.3 s",
            warm.seconds <= budget,
            f"{warm.seconds:.3f} s of {budget:.3f} s",
        )
    table.target("warm, one file edited < 0.5 s", edited.seconds < 0.5, f"{edited.seconds:.3f} s")
    table.target(
        "pre-commit, 10 files < 300 ms",
        pre_commit.seconds < 0.3,
        f"{pre_commit.seconds * 1000:.0f} ms",
    )
    peak = max(
        row.run.peak_rss_mb
        for row in table.rows
        if row.name.startswith(("readiness", "  the same"))
    )
    table.target("our peak RSS < 300 MB", peak < 300, f"{peak:.0f} MB")
    if first is not None and install is not None:
        budget = cold.seconds + install.seconds
        table.target(
            "first run <= cold + the install alone",
            first.seconds <= budget,
            f"{first.seconds:.2f} s of {budget:.2f} s",
        )
    if truth != "-":
        table.target(
            "db-ops-access findings equal the planted truth", count == truth, f"{count} of {truth}"
        )
    if args.reference is not None:
        same = json.loads(args.reference.read_text(encoding="utf-8"))["findings"] == findings_of(
            cold
        )
        table.target(
            f"findings equal {args.reference.name}", same, f"{len(findings_of(cold))} findings"
        )
    table.print(truth)
    record(
        "checks",
        {
            "corpus": args.corpus,
            "files": len(audited),
            "lines": total_lines,
            "runs": [
                {
                    "run": row.name.strip(),
                    "seconds": round(row.run.seconds, 4),
                    "cpu": round(row.run.cpu, 3),
                    "peak_rss_mb": round(row.run.peak_rss_mb, 1),
                    "timed_out": row.run.timed_out,
                    "findings": None if row.found == "-" else int(row.found),
                }
                for row in table.rows
            ],
            "targets": [
                {"target": text, "met": met, "figure": detail}
                for text, met, detail in table.targets
            ],
        },
    )
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
