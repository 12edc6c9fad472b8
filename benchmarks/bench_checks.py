"""How fast is `readiness check`, and is it right, against semgrep and ripgrep on the same tree?

Generates a synthetic Workers monorepo (default 5,000 TS/JS/Python files, about 500k lines) with a
known number of planted direct `DB_OPS` uses among decoys (comments, strings, `DB_OPS_BACKUP`, the
orchestrator that owns the binding, a committed `node_modules` and `venv`), commits it to git,
then prints, for one run on one tree: our cold audit (all rules, empty cache), our warm audit, a
pre-commit-style run on 10 files, semgrep with an equivalent db-ops-access rule, `rg DB_OPS`, and
the interpreter's start-up; each with its finding count against the planted truth, wall time,
ratios and our peak RSS.

    python benchmarks/bench_checks.py                      # 5,000 files in a temporary directory
    python benchmarks/bench_checks.py --files 1000 --keep /tmp/mono
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import record

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
    peak_rss_mb: float
    stdout: str
    returncode: int


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Wall time and peak RSS (largest process of the tree, via wait4) of one command."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=env or dict(os.environ)
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return Measured(elapsed, usage.ru_maxrss / 1024, text, process.returncode)


def best(argv: list[str], cwd: Path, env: dict[str, str], runs: int) -> Measured:
    return min((measure(argv, cwd, env) for _ in range(runs)), key=lambda m: m.seconds)


def db_ops_count(json_text: str) -> int:
    findings = json.loads(json_text)["findings"]
    return sum(1 for f in findings if f["rule"] == "db-ops-access")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=100, help="lines per file (about)")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the warm measurements")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    parser.add_argument("--no-semgrep", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    root = args.keep or workdir / "mono"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    planted = generate(root, args.files, args.lines)
    sources = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    total_lines = sum(p.read_bytes().count(b"\n") for p in sources)
    print(f"tree: {args.files} source files, {total_lines} lines, planted db-ops-access: {planted}")

    cache = workdir / "cache"
    env = {**os.environ, "READINESS_CACHE_DIR": str(cache)}
    ours = [sys.executable, "-m", "checks", str(root), "--format", "json"]
    rows: list[tuple[str, Measured, str]] = []

    cold = measure(ours, root, env)
    rows.append(("readiness check, cold (all rules)", cold, str(db_ops_count(cold.stdout))))
    warm = best(ours, root, env, args.runs)
    rows.append(("readiness check, warm (all rules)", warm, str(db_ops_count(warm.stdout))))
    some = sorted(str(p.relative_to(root)) for p in (root / "apps").rglob("m000*.ts"))[:10]
    ten = [sys.executable, "-m", "checks", *some, "--format", "json"]
    pre_commit = best(ten, root, env, args.runs)
    rows.append(("readiness check, 10 files (warm cache)", pre_commit, "-"))
    pre_commit_cold = best([*ten, "--no-cache"], root, env, args.runs)
    rows.append(("readiness check, 10 files (--no-cache)", pre_commit_cold, "-"))

    start = best([sys.executable, "-c", "pass"], root, env, args.runs)
    rows.append(("python -c pass (interpreter start)", start, "-"))
    rg = shutil.which("rg")
    rg_run = None
    if rg is None:
        print("rg: skipped (ripgrep is not installed; apt-get install ripgrep)")
    else:
        rg_run = best([rg, "--no-messages", "-c", "DB_OPS", "."], root, env, args.runs)
        count = sum(int(line.rsplit(":", 1)[1]) for line in rg_run.stdout.splitlines() if line)
        rows.append(("rg -c DB_OPS (lines)", rg_run, str(count)))

    semgrep_run = None
    if args.no_semgrep:
        print("semgrep: skipped (--no-semgrep)")
    else:
        rule = workdir / "semgrep.yaml"
        rule.write_text(SEMGREP_RULE, encoding="utf-8")
        uvx = shutil.which("uvx") or str(Path.home() / ".local/bin/uvx")
        argv = [uvx, "--from", "semgrep", "semgrep", "--metrics=off", "--quiet", "--json"]
        measure([*argv, "--version"], root, env)  # install outside the timing
        semgrep_run = measure([*argv, "--config", str(rule), "."], root, env)
        try:
            results = json.loads(semgrep_run.stdout)["results"]
            count = len({(r["path"], r["start"]["line"]) for r in results})
            rows.append(("semgrep, db-ops-access only", semgrep_run, str(count)))
        except (ValueError, KeyError):
            print(f"semgrep: skipped (it could not run: exit {semgrep_run.returncode})")
            semgrep_run = None

    print()
    print(f"{'tool':<42} {'wall s':>8} {'peak RSS MB':>12} {'findings':>9} {'truth':>6}")
    for name, run, found in rows:
        truth = str(planted) if found != "-" and not name.startswith("rg") else "-"
        print(f"{name:<42} {run.seconds:>8.3f} {run.peak_rss_mb:>12.1f} {found:>9} {truth:>6}")
    print()
    figures: dict[str, object] = {
        "files": args.files,
        "lines": total_lines,
        "planted_db_ops_access": planted,
        "runs": [
            {
                "tool": name,
                "seconds": round(run.seconds, 4),
                "peak_rss_mb": round(run.peak_rss_mb, 1),
                "findings": None if found == "-" else int(found),
            }
            for name, run, found in rows
        ],
    }
    if semgrep_run is not None:
        ratio = semgrep_run.seconds / cold.seconds
        figures["cold_vs_semgrep_speedup"] = round(ratio, 1)
        print(f"cold vs semgrep: {ratio:.1f}x faster (target >= 10x)")
    if rg_run is not None:
        budget = 2 * (rg_run.seconds + start.seconds)
        figures["warm_share_of_rg_budget"] = round(warm.seconds / budget, 3)
        print(
            f"warm vs 2 x (rg + interpreter start) = {budget:.3f} s: "
            f"{warm.seconds / budget:.2f} of the budget (target <= 1)"
        )
    print(f"10-file run: {pre_commit.seconds * 1000:.0f} ms (target < 300 ms)")
    peak = max(cold.peak_rss_mb, warm.peak_rss_mb)
    print(f"our peak RSS: {peak:.0f} MB (target < 300 MB)")
    exact = db_ops_count(cold.stdout) == planted
    print(f"our findings equal the planted truth: {exact}")
    figures.update(
        ten_file_ms=round(pre_commit.seconds * 1000, 1),
        peak_rss_mb=round(peak, 1),
        findings_equal_truth=exact,
    )
    record("checks", figures)
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
