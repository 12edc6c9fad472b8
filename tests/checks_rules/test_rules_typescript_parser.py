"""Where the TypeScript parser comes from, and what happens when it cannot run.

Loading `typescript` runs JavaScript, so these tests plant copies that leave a marker file when
they are loaded, and check that nothing from the audited tree runs unless it is named."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from checks.api import audit
from checks.rules import _typescript_parser as ts
from checks.rules.syntax_error import Options, check_file
from checks.source import SourceFile

from .conftest import MakeRepo, audit_rule, needs_node

BROKEN = "export function f( {\n  return 1;\n}\n"
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture(scope="session")
def installed_typescript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tool's own cached copy of typescript, installed on first use like the rule does."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    found = ts.find_typescript(tmp_path_factory.mktemp("tree"), "", install=True)
    if found is None:
        pytest.skip("typescript could not be installed into the cache (offline?)")
    return found


def source_in(directory: Path, name: str, text: str) -> SourceFile:
    path = directory / name
    path.write_text(text)
    return SourceFile(name, path, text.encode(), text)


def plant_typescript(directory: Path, marker: Path, forward_to: Path | None = None) -> Path:
    """A `typescript` package that writes `marker` when loaded (then, optionally, is the real
    one): proof of whether a copy was run."""
    package = directory / "typescript"
    (package / "lib").mkdir(parents=True)
    manifest = {"version": ts.TYPESCRIPT_VERSION, "main": "./lib/typescript.js"}
    (package / "package.json").write_text(json.dumps(manifest))
    script = f"require('fs').writeFileSync({json.dumps(str(marker))}, 'loaded');\n"
    if forward_to is not None:
        script += f"module.exports = require({json.dumps(str(forward_to))});\n"
    (package / "lib" / "typescript.js").write_text(script)
    return package


def fake_npm(bin_dir: Path, log: Path, *, succeed: bool = True) -> None:
    """An `npm` on PATH that logs its working directory and arguments and, when it succeeds,
    creates the requested `typescript@VERSION` under `--prefix`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text(
        "#!/bin/sh\n"
        f'echo "$PWD $*" >> "{log}"\n'
        + ("" if succeed else "exit 1\n")
        + 'prefix=""; version=""; previous=""\n'
        'for arg in "$@"; do\n'
        '  [ "$previous" = "--prefix" ] && prefix="$arg"\n'
        '  case "$arg" in typescript@*) version="${arg#typescript@}";; esac\n'
        '  previous="$arg"\n'
        "done\n"
        'mkdir -p "$prefix/node_modules/typescript/lib"\n'
        'echo "module.exports = {};" > "$prefix/node_modules/typescript/lib/typescript.js"\n'
        'echo "{\\"version\\": \\"$version\\"}" > "$prefix/node_modules/typescript/package.json"\n'
    )
    npm.chmod(0o755)


@pytest.fixture
def fresh_install_state() -> None:
    """A new process's view: no install failure remembered in memory."""
    ts._install_failed.clear()


def test_the_cache_is_per_pinned_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    assert ts.cache_dir() == tmp_path / "cache" / "readiness-toolkit" / "typescript" / "5.9.3"
    assert ts.TYPESCRIPT_VERSION.count(".") == 2  # exact, never a range


@needs_node
def test_a_typescript_in_or_above_the_tree_is_never_run_by_default(
    installed_typescript: Path, make_repo: MakeRepo, tmp_path: Path
) -> None:
    marker = tmp_path / "loaded"
    root = make_repo({"src/a.ts": BROKEN, "package.json": "{}"})
    plant_typescript(root / "node_modules", marker)
    plant_typescript(root / "src" / "node_modules", marker)
    plant_typescript(root.parent / "node_modules", marker)

    findings = audit_rule(root, "syntax-error")

    assert not marker.exists()
    assert [f.message for f in findings] == ["does not parse: ':' expected."]  # the cached copy


@needs_node
def test_a_typescript_named_by_the_option_is_used_even_inside_the_tree(
    installed_typescript: Path, make_repo: MakeRepo, tmp_path: Path
) -> None:
    marker = tmp_path / "loaded"
    root = make_repo({"src/a.ts": BROKEN})
    plant_typescript(root / "node_modules", marker, forward_to=installed_typescript)

    options = Options(typescript="node_modules/typescript", install_typescript=False)
    findings = audit_rule(root, "syntax-error", options)

    assert marker.exists()
    assert [f.message for f in findings] == ["does not parse: ':' expected."]


def test_a_cache_inside_the_audited_tree_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_install_state: None
) -> None:
    root = tmp_path / "tree"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    marker = tmp_path / "loaded"
    plant_typescript(ts.cache_dir() / "node_modules", marker)
    log = tmp_path / "npm.log"
    fake_npm(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    file = source_in(root, "a.ts", BROKEN)

    assert ts.find_typescript(root, "", install=True) is None
    assert ts.typescript_diagnostics(file, "node", "", install=True) is None
    assert not marker.exists()
    assert not log.exists()  # and nothing was installed there either


def test_install_goes_to_the_cache_pinned_and_without_scripts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_install_state: None
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / ".npmrc").write_text("registry=https://evil.example/\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    log = tmp_path / "npm.log"
    fake_npm(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(root)

    first = ts.find_typescript(root, "", install=True)
    second = ts.find_typescript(root, "", install=True)

    prefix = ts.cache_dir()
    assert first == second == prefix / "node_modules" / "typescript"
    [call] = log.read_text().splitlines()
    directory, *arguments = call.split()
    assert directory == str(prefix)  # npm never starts in the audited tree
    assert "--ignore-scripts" in arguments
    assert f"typescript@{ts.TYPESCRIPT_VERSION}" in arguments
    assert arguments[arguments.index("--prefix") + 1] == str(prefix)


def test_a_cached_copy_of_another_version_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_install_state: None
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = plant_typescript(ts.cache_dir() / "node_modules", tmp_path / "loaded")
    (package / "package.json").write_text('{"version": "5.0.0"}')

    assert ts.find_typescript(tmp_path / "tree", "", install=False) is None


def test_a_failed_install_is_not_retried_for_an_hour(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_install_state: None
) -> None:
    root = tmp_path / "tree"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    log = tmp_path / "npm.log"
    fake_npm(tmp_path / "bin", log, succeed=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    assert ts.find_typescript(root, "", install=True) is None
    ts._install_failed.clear()  # a later run, in a new process
    assert ts.find_typescript(root, "", install=True) is None
    assert len(log.read_text().splitlines()) == 1

    hours_ago = time.time() - 2 * ts.RETRY_AFTER
    os.utime(ts.cache_dir() / ".install-failed", (hours_ago, hours_ago))
    ts._install_failed.clear()
    fake_npm(tmp_path / "bin", log)
    assert (
        ts.find_typescript(root, "", install=True) == ts.cache_dir() / "node_modules" / "typescript"
    )
    assert len(log.read_text().splitlines()) == 2
    assert not (ts.cache_dir() / ".install-failed").exists()


@needs_node
def test_a_node_on_path_inside_the_tree_is_skipped(
    installed_typescript: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ts._close_all()  # no server left from another test: this one must start node
    root = tmp_path / "tree"
    marker = tmp_path / "ran"
    fake = root / "node_modules" / ".bin" / "node"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    file = source_in(root, "a.ts", BROKEN)

    verdict = ts.typescript_diagnostics(file, "node", str(installed_typescript), install=False)

    assert verdict  # from the node outside the tree
    assert not marker.exists()


def test_an_explicit_directory_may_hold_node_modules(installed_typescript: Path) -> None:
    prefix = installed_typescript.parent.parent

    assert ts.find_typescript(Path("/"), str(prefix), install=False) == installed_typescript
    assert (
        ts.find_typescript(Path("/"), str(installed_typescript), install=False)
        == installed_typescript
    )


def test_a_typescript_that_fails_to_load_means_no_second_opinion(tmp_path: Path) -> None:
    broken = tmp_path / "typescript"
    (broken / "lib").mkdir(parents=True)
    (broken / "lib" / "typescript.js").write_text("throw new Error('corrupt install');\n")
    file = source_in(tmp_path, "a.ts", BROKEN)

    verdict = ts.typescript_diagnostics(file, "node", str(broken), install=False)
    findings = check_file(file, Options(typescript=str(broken), install_typescript=False))

    assert verdict is None
    assert len(findings) == 1  # the known-gaps fallback still reports it


def test_no_node_means_no_second_opinion(tmp_path: Path) -> None:
    file = source_in(tmp_path, "a.ts", BROKEN)

    assert ts.typescript_diagnostics(file, "no-such-node-binary", "", install=False) is None
    assert ts.typescript_diagnostics(file, "", "", install=False) is None


def test_without_npm_nothing_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_install_state: None
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    assert ts.find_typescript(tmp_path / "tree", "", install=True) is None
    assert ts.find_typescript(tmp_path / "tree", "", install=False) is None


@pytest.mark.slow
@needs_npm
@needs_node
def test_install_fills_the_cache_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_install_state: None
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    first = ts.find_typescript(tmp_path / "tree", "", install=True)
    second = ts.find_typescript(tmp_path / "tree", "", install=False)

    assert first == second == ts.cache_dir() / "node_modules" / "typescript"
    (tmp_path / "tree").mkdir()
    file = source_in(tmp_path / "tree", "a.ts", BROKEN)
    assert ts.typescript_diagnostics(file, "node", "", install=False)


@needs_node
def test_servers_are_closed_at_exit(installed_typescript: Path, tmp_path: Path) -> None:
    file = source_in(tmp_path, "a.ts", BROKEN)
    assert ts.typescript_diagnostics(file, "node", str(installed_typescript), install=False)

    ts._close_all()

    assert ts._servers == {}
    assert ts.typescript_diagnostics(file, "node", str(installed_typescript), install=False)


def counting_typescript(directory: Path, log: Path, real: Path) -> Path:
    """A `typescript` package that forwards to the real one and logs each load and each file it
    is asked to parse."""
    package = directory / "typescript"
    (package / "lib").mkdir(parents=True)
    manifest = {"version": ts.TYPESCRIPT_VERSION, "main": "./lib/typescript.js"}
    (package / "package.json").write_text(json.dumps(manifest))
    (package / "lib" / "typescript.js").write_text(
        "const fs = require('fs');\n"
        f"const log = {json.dumps(str(log))};\n"
        "fs.appendFileSync(log, 'load\\n');\n"
        f"const real = require({json.dumps(str(real))});\n"
        "const counted = Object.create(real);\n"
        "Object.defineProperty(counted, 'createSourceFile', { value: (...args) => {\n"
        "  fs.appendFileSync(log, 'parse\\n');\n"
        "  return real.createSourceFile(...args);\n"
        "} });\n"
        "module.exports = counted;\n"
    )
    return package


@needs_node
def test_one_typescript_process_confirms_every_candidate_and_only_changed_files_are_asked_again(
    installed_typescript: Path,
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "cache"))
    log = tmp_path / "typescript.log"
    package = counting_typescript(tmp_path / "ts", log, installed_typescript)
    options = {"typescript": str(package), "install_typescript": False}
    root = make_repo(
        {
            "readiness.yaml": yaml.safe_dump({"checks": {"rules": {"syntax-error": options}}}),
            "src/a.ts": BROKEN,
            "src/b.ts": "const x = ;\n",
            "src/c.ts": BROKEN,
            "src/fine.ts": "export const ok = 1;\n",
        }
    )

    cold = audit(root, select=["syntax-error"])
    asked_cold = log.read_text().splitlines()
    (root / "src/b.ts").write_text("let y = ;\n")
    stat = (root / "src/b.ts").stat()
    os.utime(root / "src/b.ts", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    warm = audit(root, select=["syntax-error"])
    asked_warm = log.read_text().splitlines()[len(asked_cold) :]

    assert asked_cold == ["load", "parse", "parse", "parse"]  # the fine file is never asked
    assert asked_warm == ["parse"]  # b.ts only: the other verdicts are kept per content
    assert [f.path for f in cold.findings] == ["src/a.ts", "src/b.ts", "src/c.ts"]
    assert [(f.path, f.snippet) for f in warm.findings] == [
        ("src/a.ts", "return 1;"),
        ("src/b.ts", "let y = ;"),
        ("src/c.ts", "return 1;"),
    ]
    assert warm.summary["analysed"] == 1


@needs_node
def test_a_parser_started_ahead_is_the_one_that_answers(
    installed_typescript: Path, tmp_path: Path
) -> None:
    log = tmp_path / "typescript.log"
    package = counting_typescript(tmp_path / "ts", log, installed_typescript)
    root = tmp_path / "tree"
    root.mkdir()
    files = [source_in(root, "a.ts", BROKEN), source_in(root, "b.ts", "export const b = 1;\n")]

    ts.prestart(root, "node", str(package), False)
    verdicts = ts.typescript_verdicts(root, files, "node", str(package), False)

    assert [[d.message for d in v or []][:1] for v in verdicts] == [["':' expected."], []]
    assert log.read_text().splitlines() == ["load", "parse", "parse"]
