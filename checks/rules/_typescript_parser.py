"""The TypeScript parser as a second opinion on files tree-sitter rejects.

One `node` process per `typescript` copy stays alive for the run and answers one JSON line per
file, so confirming a handful of files costs one interpreter start, not one per file.

Loading `typescript` runs its JavaScript, so where it comes from is a security decision: the
audited tree is untrusted input (a pull request can commit `node_modules/typescript/lib/
typescript.js`), and nothing in it is run unless the rule's `typescript` option names it. By
default the copy is the tool's own, in the per-user cache outside the tree: one exact, pinned
version, installed on demand with `npm install --ignore-scripts` run from the cache directory
(so the tree's `.npmrc` cannot pick the registry). A cache directory inside the audited tree is
refused, and so is a `node` that PATH would find inside it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock
from filelock import Timeout as LockTimeout

from checks.source import SourceFile

# Exact: the version the precision corpus was measured with; installed copies are checked.
TYPESCRIPT_VERSION = "5.9.3"
INSTALL_TIMEOUT = 120  # seconds; a hung registry must not hold a pre-commit hook for long
RETRY_AFTER = 3600  # seconds after a failed install (offline) before npm is tried again

# Reads {"kind", "text"} lines; answers with the first parse diagnostics, 1-based positions.
_SERVER = r"""
const ts = require(process.argv[1]);
const readline = require('readline');
const kinds = { ts: ts.ScriptKind.TS, tsx: ts.ScriptKind.TSX, js: ts.ScriptKind.JS };
const names = { ts: 'file.ts', tsx: 'file.tsx', js: 'file.js' };
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    const source = ts.createSourceFile(
      names[request.kind], request.text, ts.ScriptTarget.Latest, false, kinds[request.kind]);
    answer = source.parseDiagnostics.slice(0, 3).map((d) => {
      const at = source.getLineAndCharacterOfPosition(d.start);
      return [at.line + 1, at.character + 1, ts.flattenDiagnosticMessageText(d.messageText, ' ')];
    });
  } catch (error) {
    answer = { error: String(error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
"""

_KINDS = {"typescript": "ts", "tsx": "tsx", "javascript": "js"}


@dataclass(frozen=True)
class Diagnostic:
    line: int
    column: int
    message: str


class _Server:
    """A running `node` that parses with one copy of `typescript`."""

    def __init__(self, node: str, typescript: Path) -> None:
        self.pid = os.getpid()  # a forked worker must start its own: pipes are not shareable
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [node, "-e", _SERVER, str(typescript)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            cwd=typescript,  # not the audited tree: nothing there is looked up
        )

    def parse(self, kind: str, text: str) -> list[Diagnostic] | None:
        process = self._process
        if process.stdin is None or process.stdout is None:  # pragma: no cover - pipes requested
            return None
        with self._lock:
            try:
                process.stdin.write(json.dumps({"kind": kind, "text": text}) + "\n")
                process.stdin.flush()
                answer = json.loads(process.stdout.readline() or "null")
            except (OSError, ValueError):
                return None
        return _diagnostics(answer)

    def parse_many(self, requests: list[tuple[str, str]]) -> list[list[Diagnostic] | None]:
        """Answers for many (kind, text) requests, written by one thread while this one reads,
        so node never waits for the next question and neither side fills a pipe and blocks."""
        process = self._process
        if process.stdin is None or process.stdout is None:  # pragma: no cover - pipes requested
            return [None] * len(requests)
        stdin, stdout = process.stdin, process.stdout

        def send() -> None:
            with contextlib.suppress(OSError, ValueError):  # node died: the reads see it
                for kind, text in requests:
                    stdin.write(json.dumps({"kind": kind, "text": text}) + "\n")
                stdin.flush()

        answers: list[list[Diagnostic] | None] = []
        with self._lock:
            writer = threading.Thread(target=send, name="typescript-requests", daemon=True)
            writer.start()
            for _request in requests:
                try:
                    answer = json.loads(stdout.readline() or "null")
                except (OSError, ValueError):
                    answer = None
                answers.append(_diagnostics(answer))
            writer.join()
        return answers

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):  # node exited (a typescript that failed to load)
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - node ignores EOF only if wedged
            self._process.kill()


def _diagnostics(answer: object) -> list[Diagnostic] | None:
    if not isinstance(answer, list):
        return None
    return [Diagnostic(int(line), int(column), str(message)) for line, column, message in answer]


_servers: dict[tuple[str, Path], _Server | None] = {}
_servers_lock = threading.Lock()


def _close_all() -> None:
    for server in _servers.values():
        if server is not None:
            server.close()
    _servers.clear()


atexit.register(_close_all)


def cache_dir() -> Path:
    """Where the tool's own copy of `typescript` lives: per user, per pinned version, shared
    by every project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "readiness-toolkit" / "typescript" / TYPESCRIPT_VERSION


def _is_typescript(directory: Path) -> bool:
    return (directory / "lib" / "typescript.js").is_file()


def _is_pinned(directory: Path) -> bool:
    """Is this the pinned version (a half-finished or different install is not)?"""
    if not _is_typescript(directory):
        return False
    try:
        manifest = json.loads((directory / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("version") == TYPESCRIPT_VERSION


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def find_typescript(root: Path, explicit: str, install: bool) -> Path | None:
    """The `typescript` package directory to use for a tree audited at `root`, or None.

    `explicit` (the rule's `typescript` option: a package directory or a directory holding
    `node_modules/typescript`; relative to `root`) is used as given, even inside the tree:
    someone chose it. Otherwise only the tool's cache, filled when `install` allows."""
    if explicit:
        candidate = Path(explicit).expanduser()
        candidate = candidate if candidate.is_absolute() else root / candidate
        if _is_typescript(candidate / "node_modules" / "typescript"):
            return candidate / "node_modules" / "typescript"
        return candidate if _is_typescript(candidate) else None
    prefix = cache_dir()
    if _inside(prefix, root):
        return None  # a cache the audited tree could have committed is not the tool's own
    cached = prefix / "node_modules" / "typescript"
    if _is_pinned(cached):
        return cached
    return _install(prefix) if install else None


_install_failed: set[Path] = set()


def _recently_failed(prefix: Path) -> bool:
    marker = prefix / ".install-failed"
    try:
        return time.time() - marker.stat().st_mtime < RETRY_AFTER
    except OSError:
        return False


def _install(prefix: Path) -> Path | None:
    """`npm install` the pinned `typescript` into the cache, once, safely when several
    processes race; a failure (offline, no npm) is not retried for RETRY_AFTER seconds."""
    npm = shutil.which("npm")
    if npm is None or prefix in _install_failed or _recently_failed(prefix):
        return None
    target = prefix / "node_modules" / "typescript"
    try:
        prefix.mkdir(parents=True, exist_ok=True)
        with FileLock(str(prefix / ".install.lock"), timeout=INSTALL_TIMEOUT + 30):
            if _is_pinned(target):
                return target  # another process installed it while this one waited
            print(  # the first run ever is slower: say why, and what lands where
                f"installing typescript@{TYPESCRIPT_VERSION} into {prefix} (once; the "
                "syntax-error rule's second opinion)",
                file=sys.stderr,
                flush=True,
            )
            manifest = prefix / "package.json"  # the prefix is its own project: npm looks no
            if not manifest.is_file():  # further up for a package.json or an .npmrc
                manifest.write_text('{"private": true}\n', encoding="utf-8")
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(prefix),
                    "--ignore-scripts",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    "--fetch-retries=1",
                    f"typescript@{TYPESCRIPT_VERSION}",
                ],
                cwd=prefix,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                timeout=INSTALL_TIMEOUT,
            )
            if result.returncode == 0 and _is_pinned(target):
                (prefix / ".install-failed").unlink(missing_ok=True)
                return target
            (prefix / ".install-failed").touch()
    except (OSError, subprocess.SubprocessError, LockTimeout):
        pass  # unwritable cache, npm timed out or vanished, a wedged lock holder
    _install_failed.add(prefix)
    return None


def _root_of(file: SourceFile) -> Path:
    """The audited tree's root: `file.absolute` less the file's relative path."""
    depth = len(PurePosixPath(file.path).parts)
    parents = file.absolute.parents
    return (parents[depth - 1] if 0 < depth <= len(parents) else file.absolute.parent).resolve()


def _node_executable(node: str, root: Path) -> str | None:
    """The `node` to run. A path is used as configured; a bare name is looked up on PATH,
    skipping relative entries and entries inside the audited tree (`./node_modules/.bin`)."""
    if "/" in node or os.sep in node:
        return shutil.which(node)
    entries = [Path(e) for e in os.environ.get("PATH", os.defpath).split(os.pathsep) if e]
    trusted = [str(e) for e in entries if e.is_absolute() and not _inside(e, root)]
    return shutil.which(node, path=os.pathsep.join(trusted)) if trusted else None


def _server(executable: str, typescript: Path) -> _Server | None:
    key = (executable, typescript)
    with _servers_lock:
        known = _servers.get(key)
        if key not in _servers or (known is not None and known.pid != os.getpid()):
            try:
                _servers[key] = _Server(executable, typescript)
            except OSError:  # not executable after all
                _servers[key] = None
        return _servers[key]


def _server_for(root: Path, node: str, typescript: str, install: bool) -> _Server | None:
    if not node:
        return None
    executable = _node_executable(node, root)
    if executable is None:
        return None
    location = find_typescript(root, typescript, install)
    if location is None:
        return None
    return _server(executable, location.resolve())


_starting: dict[tuple[Path, str, str, bool], threading.Thread] = {}


def prestart(root: Path, node: str, typescript: str, install: bool) -> None:
    """Find (or install) TypeScript and start its `node` in a background thread, so that both
    happen while the audit parses files; `typescript_verdicts` waits for it. Call it only
    after any worker process has been forked: a fork must not copy a running thread."""
    key = (root.resolve(), node, typescript, install)
    with _servers_lock:
        if key in _starting:
            return
        thread = threading.Thread(
            target=_server_for, args=key, name="typescript-start", daemon=True
        )
        _starting[key] = thread
    thread.start()


def _started(root: Path, node: str, typescript: str, install: bool) -> None:
    """Wait for a `prestart` of the same parser, if one is running."""
    with _servers_lock:
        thread = _starting.pop((root, node, typescript, install), None)
    if thread is not None:
        thread.join()


def typescript_diagnostics(
    file: SourceFile, node: str, typescript: str, install: bool
) -> list[Diagnostic] | None:
    """The TypeScript parser's diagnostics for a file ([] when it parses), or None when no
    parser can be run here (no node, no typescript)."""
    kind = _KINDS.get(file.language or "")
    if kind is None:
        return None
    server = _server_for(_root_of(file), node, typescript, install)
    return None if server is None else server.parse(kind, file.text)


def typescript_verdicts(
    root: Path, files: list[SourceFile], node: str, typescript: str, install: bool
) -> list[list[Diagnostic] | None]:
    """`typescript_diagnostics` for many files of the tree at `root`, asked of one `node`
    process in one stream: one interpreter start and one load of TypeScript per audit."""
    kinds = [_KINDS.get(file.language or "") for file in files]
    root = root.resolve()
    _started(root, node, typescript, install)
    server = _server_for(root, node, typescript, install) if any(kinds) else None
    if server is None:
        return [None] * len(files)
    asked = [(kind, file.text) for kind, file in zip(kinds, files, strict=True) if kind]
    answers = iter(server.parse_many(asked))
    return [next(answers) if kind else None for kind in kinds]
