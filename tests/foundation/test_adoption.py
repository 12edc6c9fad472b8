"""The README's adoption path, walked end to end in a monorepo that never heard of this toolkit:
npm workspaces, tsconfig `paths`, a Jest `moduleNameMapper`, vendored `third_party/`, binary
assets and findings that were there before the toolkit arrived.

Everything runs for real: the installed `readiness` and `ops-monitor` programs, git, the action's
step scripts, and pre-commit installing our hooks from a local clone of this tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import git
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}

API_WORKER = """\
import { formatDate } from "@shared/dates";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const rows = await env.DB_OPS.prepare("SELECT * FROM ops_issues").all();
    return Response.json({ rows, at: formatDate(new Date()) });
  },
};
"""

JOBS_WORKER = """\
export async function purge(env: Env): Promise<void> {
  await env.DB_OPS.prepare("DELETE FROM ops_logs WHERE at < ?").bind(0).run();
}
"""

OPS_SERVICE = """\
export async function openIssues(env: Env): Promise<unknown> {
  return env.DB_OPS.prepare("SELECT * FROM ops_issues").all();
}
"""

PLANTED = """\
export async function peek(env: Env): Promise<unknown> {
  return env.DB_OPS.prepare("SELECT 1").first();
}
"""

CLEAN = "export const greeting = (name: string): string => `hello ${name}`;\n"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _files() -> dict[str, str | bytes]:
    return {
        "package.json": json.dumps(
            {"name": "acme", "private": True, "workspaces": ["apps/*", "packages/*"]}
        ),
        "tsconfig.base.json": json.dumps(
            {"compilerOptions": {"baseUrl": ".", "paths": {"@shared/*": ["packages/shared/*"]}}}
        ),
        "jest.config.js": (
            "module.exports = {\n"
            "  moduleNameMapper: { '^@shared/(.*)$': '<rootDir>/packages/shared/$1' },\n"
            "};\n"
        ),
        "apps/api/package.json": json.dumps({"name": "@acme/api", "version": "1.0.0"}),
        "apps/api/tsconfig.json": json.dumps({"extends": "../../tsconfig.base.json"}),
        "apps/api/src/index.ts": API_WORKER,
        "apps/jobs/package.json": json.dumps({"name": "@acme/jobs", "version": "1.0.0"}),
        "apps/jobs/src/purge.ts": JOBS_WORKER,
        "apps/web/package.json": json.dumps({"name": "@acme/web", "version": "1.0.0"}),
        "apps/web/src/table.ts": "import { sortBy } from 'lodash';\nexport const s = sortBy;\n",
        "apps/web/src/greeting.ts": CLEAN,
        "apps/web/public/logo.png": PNG,
        "apps/web/public/favicon.ico": b"\x00\x00\x01\x00" + bytes(200),
        "apps/web/src/wasm-inline.js": b"export default '\x00asm\x01\x00\x00\x00';\n",
        "services/ops/package.json": json.dumps({"name": "@acme/ops", "version": "1.0.0"}),
        "services/ops/src/issues.ts": OPS_SERVICE,
        "packages/shared/package.json": json.dumps({"name": "@acme/shared", "version": "1.0.0"}),
        "packages/shared/dates.ts": "export const formatDate = (d: Date) => d.toISOString();\n",
        "third_party/legacy-ops/index.js": "module.exports = (env) => env.DB_OPS;\n",
    }


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **GIT_IDENTITY,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "READINESS_CACHE_DIR": str(tmp_path / "readiness-cache"),
        **extra,
    }


def _run(
    argv: list[str], cwd: Path, env: dict[str, str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        argv, cwd=cwd, env=env, input=stdin, capture_output=True, timeout=600, check=False
    )
    return subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


def _readiness(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "readiness"), *args], cwd, env)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """The foreign monorepo, cloned from its own `origin` (a bare repository) as CI checks out."""
    seed = tmp_path / "seed"
    seed.mkdir()
    _write(seed, _files())
    repo = git.Repo.init(seed, initial_branch="main")
    repo.git.add(all=True)
    repo.git.commit("-m", "the monorepo as it was", env=GIT_IDENTITY)
    origin = tmp_path / "origin.git"
    git.Repo.clone_from(str(seed), str(origin), bare=True)
    checkout = tmp_path / "acme"
    git.Repo.clone_from(str(origin), str(checkout))
    return checkout


def _commit(root: Path, message: str) -> None:
    repo = git.Repo(root)
    repo.git.add(all=True)
    repo.git.commit("-m", message, env=GIT_IDENTITY)


def _findings(root: Path, env: dict[str, str], *args: str) -> list[dict[str, object]]:
    result = _readiness(root, env, "check", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return found


def test_check_output_is_one_line_per_finding_then_a_summary_with_hints(
    monorepo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    findings = _findings(monorepo, env)

    text = _readiness(monorepo, env, "check")
    concise = _readiness(monorepo, env, "check", "--format", "concise")
    statistics = _readiness(monorepo, env, "check", "--statistics")

    rules = {str(f["rule"]) for f in findings}
    assert rules == {"db-ops-access", "missing-dependency"}
    # apps/api, apps/jobs and services/ops use DB_OPS; third_party/ is vendored, not audited
    assert sorted(str(f["path"]) for f in findings if f["rule"] == "db-ops-access") == [
        "apps/api/src/index.ts", "apps/jobs/src/purge.ts", "services/ops/src/issues.ts",
    ]  # fmt: skip
    assert text.returncode == concise.returncode == statistics.returncode == 1
    lines = text.stdout.splitlines()
    assert len(lines) == len(findings) + 1 + len(rules)  # findings, the totals, one per rule
    assert all(re.match(r"^\S+:\d+:\d+: (error|warning|note) \[", line) for line in lines[:3])
    assert lines[len(findings)].startswith(f"{len(findings)} findings (")
    assert re.match(
        r"^3  db-ops-access +hint: set checks\.rules\.db-ops-access\.owner_paths", lines[-2]
    )
    assert 'hint: set checks.rules.missing-dependency.ignore to ["lodash"]' in lines[-1]
    totals = len(findings)  # the totals line counts cached files, which differ run to run
    assert concise.stdout.splitlines()[:totals] == lines[:totals]
    assert concise.stdout.splitlines()[totals + 1 :] == lines[totals + 1 :]
    for output in (text.stdout, text.stderr):  # binary assets are not audited, nor mentioned
        assert "skipped" not in output
        assert "logo.png" not in output
        assert "wasm-inline" not in output
    assert statistics.stdout.splitlines()[:2] == [
        "3  db-ops-access       Restricted binding used outside its owner",
        "1  missing-dependency  Imported package not declared in package.json",
    ]

    # the hint's setting, applied, silences that false alarm and nothing else
    (monorepo / "readiness.yaml").write_text(
        'checks:\n  rules:\n    db-ops-access: {owner_paths: ["services/ops/**"]}\n',
        encoding="utf-8",
    )
    configured = _findings(monorepo, env)
    assert sorted(str(f["path"]) for f in configured if f["rule"] == "db-ops-access") == [
        "apps/api/src/index.ts", "apps/jobs/src/purge.ts",
    ]  # fmt: skip


def test_severity_exit_zero_and_excludes_on_the_command_line(
    monorepo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)

    assert _readiness(monorepo, env, "check", "--exit-zero").returncode == 0
    assert _readiness(monorepo, env, "check", "--fail-on", "error").returncode == 1
    excluded = _findings(monorepo, env, "--extend-exclude", "apps/**,services/**")
    assert excluded == []
    replaced = _findings(monorepo, env, "--exclude", "apps/**")
    assert {str(f["path"]) for f in replaced} == {
        "services/ops/src/issues.ts", "third_party/legacy-ops/index.js",
    }  # fmt: skip
    only_errors = _findings(monorepo, env, "--severity", "error")
    assert len(only_errors) == len(_findings(monorepo, env))


def test_a_baseline_written_then_used_from_a_file_a_git_ref_and_the_config(
    monorepo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)

    wrote = _readiness(monorepo, env, "check", "--write-baseline", ".readiness-baseline.json")
    _commit(monorepo, "adopt readiness: baseline")
    _write(monorepo, {"apps/web/src/ops.ts": PLANTED})

    assert wrote.returncode == 0, wrote.stderr
    for spec in (".readiness-baseline.json", "HEAD:.readiness-baseline.json"):
        new = _findings(monorepo, env, "--baseline", spec)
        assert [(f["rule"], f["path"]) for f in new] == [("db-ops-access", "apps/web/src/ops.ts")]
    (monorepo / "readiness.yaml").write_text(
        "checks:\n  baseline: HEAD:.readiness-baseline.json\n", encoding="utf-8"
    )
    assert [f["path"] for f in _findings(monorepo, env)] == ["apps/web/src/ops.ts"]
    missing = _readiness(monorepo, env, "check", "--baseline", "HEAD:nope.json")
    assert missing.returncode == 2
    assert missing.stderr.startswith("readiness: error: HEAD:nope.json: cannot read baseline")


def test_diff_base_reports_only_the_lines_a_branch_changed(monorepo: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    repo = git.Repo(monorepo)
    repo.git.checkout("-b", "feature")
    _write(monorepo, {"apps/web/src/ops.ts": PLANTED})
    _commit(monorepo, "a change")

    changed = _findings(monorepo, env, "--diff-base", "origin/main")

    assert [(f["rule"], f["path"]) for f in changed] == [("db-ops-access", "apps/web/src/ops.ts")]


def _action_step(
    monorepo: Path, tmp_path: Path, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    summary = tmp_path / "step-summary.md"
    summary.write_text("", encoding="utf-8")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = _env(
        tmp_path,
        GITHUB_STEP_SUMMARY=str(summary),
        RUNNER_TEMP=str(runner_temp),
        TARGET=".",
        SARIF=str(tmp_path / "readiness.sarif"),
        **inputs,
    )
    result = _run(["bash", str(ROOT / "action" / "check.sh")], monorepo, env)
    return result, summary.read_text(encoding="utf-8")


def test_the_action_caps_annotations_and_summarises_the_rest(
    monorepo: Path, tmp_path: Path
) -> None:
    result, summary = _action_step(monorepo, tmp_path, MAX_ANNOTATIONS="2", DIFF_BASE="none")

    assert result.returncode == 1, result.stderr
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    assert "4 findings: the first 2 are annotated" in summary
    assert re.search(r"^3  db-ops-access", summary, re.MULTILINE)
    sarif = json.loads((tmp_path / "readiness.sarif").read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == 4


def test_the_action_on_a_pull_request_uses_the_base_baseline_diff_and_config(
    monorepo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    _readiness(monorepo, env, "check", "--write-baseline", ".readiness-baseline.json")
    _commit(monorepo, "adopt readiness: baseline")
    git.Repo(monorepo).git.push("origin", "main")
    git.Repo(monorepo).git.checkout("-b", "pull-request")
    # the pull request adds a DB_OPS use and tries to switch the rule off in its own config
    _write(
        monorepo,
        {
            "apps/web/src/ops.ts": PLANTED,
            "readiness.yaml": (
                "checks:\n  ignore:\n    - {rule: db-ops-access, reason: not today}\n"
            ),
        },
    )
    _commit(monorepo, "a pull request")
    inputs = {
        "GITHUB_BASE_REF": "main",
        "BASELINE": "origin/main:.readiness-baseline.json",
        "CONFIG_FROM_BASE": "true",
    }

    result, summary = _action_step(monorepo, tmp_path, **inputs)
    own_config, _ = _action_step(monorepo, tmp_path, **{**inputs, "CONFIG_FROM_BASE": "false"})
    report_only, _ = _action_step(monorepo, tmp_path, **{**inputs, "FAIL": "false"})

    assert result.returncode == 1, result.stderr
    (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error file=apps/web/src/ops.ts,line=2,")
    assert "1 finding (1 error(s))" in summary
    assert own_config.returncode == 0, own_config.stderr  # what config-from-base prevents
    assert report_only.returncode == 0


def _readme_commands() -> list[list[str]]:
    """The commands of the README's table, up to their first argument or option."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for cell in re.findall(r"^\| `((?:readiness|ops-monitor)[^`]*)`", readme, re.MULTILINE):
        words = []
        for word in cell.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        commands.append(words)
    return commands


def test_version_works_on_every_command_of_the_readme(tmp_path: Path) -> None:
    commands = _readme_commands()
    env = _env(tmp_path)

    assert ["ops-monitor", "resolve"] in commands
    assert ["ops-monitor", "config"] in commands
    assert ["readiness", "plan", "init"] in commands
    assert ["readiness", "tools", "install"] in commands
    for command in commands:
        result = _run([str(BIN / command[0]), *command[1:], "--version"], tmp_path, env)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.strip().endswith(f", version {version('readiness-toolkit')}"), command


def test_list_rules_names_the_engines_own_rules(tmp_path: Path) -> None:
    listed = _readiness(tmp_path, _env(tmp_path), "check", "--list-rules").stdout

    assert re.search(r"^unused-ignore +warning ", listed, re.MULTILINE)
    assert re.search(r"^ignore-without-reason +warning ", listed, re.MULTILINE)


def test_every_bad_input_of_the_first_hour_exits_non_zero_with_one_line(
    monorepo: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path, OPS_MONITOR_DB=f"sqlite:///{tmp_path / 'ops.db'}")
    empty = tmp_path / "PLAN.md"
    empty.write_text("", encoding="utf-8")
    prose = tmp_path / "NOTES.md"
    prose.write_text("Just some notes, no plan.\n", encoding="utf-8")
    binary = monorepo / "apps" / "web" / "public" / "logo.png"
    coverage = tmp_path / "coverage.json"
    coverage.write_text("{not json", encoding="utf-8")
    readiness, ops = str(BIN / "readiness"), str(BIN / "ops-monitor")
    cases: list[tuple[list[str], int, str]] = [
        ([readiness, "plan", "import", str(empty)], 2, "readiness: error: "),
        ([readiness, "plan", "import", str(prose)], 2, "readiness: error: "),
        ([ops, "ingest", str(binary)], 1, "ops-monitor: error: "),
        ([ops, "ingest", "-"], 1, "ops-monitor: error: "),
        ([ops, "templates", str(binary)], 2, "ops-monitor: error: "),
        ([readiness, "check", "--format", "json", "--format", "sarif"], 2, "readiness: error: "),
        ([readiness, "check", "-o", str(tmp_path / "no" / "x.txt")], 2, "readiness: error: "),
        (
            [readiness, "check", "--write-baseline", str(tmp_path / "no" / "b.json")],
            2,
            "readiness: error: ",
        ),
        ([ops, "scan", "--url", "not-a-url"], 2, "ops-monitor: error: "),
        ([readiness, "gate", "coverage", str(coverage), "--total", "90"], 2, "readiness: error: "),
    ]

    for argv, status, prefix in cases:
        stdin = binary.read_bytes() if argv[-1] == "-" else None
        result = _run(argv, monorepo, env, stdin=stdin)
        assert result.returncode == status, (argv, result.stdout, result.stderr)
        assert result.stderr.startswith(prefix), (argv, result.stderr)
        assert len(result.stderr.splitlines()) == 1, (argv, result.stderr)
        assert "\x00" not in result.stdout
    assert not (tmp_path / "no").exists()


def _local_clone(tmp_path: Path) -> tuple[Path, str]:
    """This tree as it is now (committed or not), as a repository pre-commit can clone."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    clone = tmp_path / "readiness-toolkit"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    repo = git.Repo.init(clone)
    repo.git.add(all=True)
    repo.git.commit("-m", "snapshot", env=GIT_IDENTITY)
    return clone, repo.head.commit.hexsha


@pytest.mark.slow
def test_both_hooks_through_real_pre_commit_pass_a_clean_change_and_stop_a_db_ops_use(
    monorepo: Path, tmp_path: Path
) -> None:
    clone, rev = _local_clone(tmp_path)
    (monorepo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {clone}\n    rev: {rev}\n    hooks:\n"
        "      - id: readiness-check\n      - id: readiness-runbooks\n",
        encoding="utf-8",
    )
    _commit(monorepo, "adopt readiness: hooks")
    env = _env(tmp_path, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    installed = _run([sys.executable, "-m", "pre_commit", "install"], monorepo, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    _write(monorepo, {"apps/web/src/greeting.ts": CLEAN + "export const bye = 'bye';\n"})
    git.Repo(monorepo).git.add(all=True)
    clean = _run(["git", "commit", "-m", "a clean change"], monorepo, env)

    _write(monorepo, {"apps/web/src/ops.ts": PLANTED})
    git.Repo(monorepo).git.add(all=True)
    planted = _run(["git", "commit", "-m", "a DB_OPS use"], monorepo, env)

    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"readiness runbooks --check\.+Passed", clean.stdout + clean.stderr)
    assert planted.returncode == 1, planted.stdout + planted.stderr
    output = planted.stdout + planted.stderr
    assert re.search(r"readiness check\.+Failed", output)
    assert "apps/web/src/ops.ts:2:" in output
    assert "[db-ops-access]" in output
    assert git.Repo(monorepo).head.commit.message.strip() == "a clean change"
