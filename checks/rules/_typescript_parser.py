"""The TypeScript parser as a second opinion on files tree-sitter rejects.

One `node` process per `typescript` copy stays alive for the run and answers one JSON line per
file, so confirming a handful of files costs one interpreter start, not one per file. Where the
`typescript` package comes from: an explicit directory, else the scanned project's own
`node_modules/typescript`, else a per-user cache filled on demand with `npm install`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from checks.source import SourceFile

TYPESCRIPT_SPEC = "typescript@5"

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
        if not isinstance(answer, list):
            return None
        return [
            Diagnostic(int(line), int(column), str(message)) for line, column, message in answer
        ]

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):  # node exited (a typescript that failed to load)
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - node ignores EOF only if wedged
            self._process.kill()


_servers: dict[tuple[str, Path], _Server | None] = {}
_servers_lock = threading.Lock()


def _close_all() -> None:
    for server in _servers.values():
        if server is not None:
            server.close()
    _servers.clear()


atexit.register(_close_all)


def cache_dir() -> Path:
    """Where an on-demand copy of `typescript` lives (per user, shared by every project)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "readiness-toolkit" / "typescript"


def _is_typescript(directory: Path) -> bool:
    return (directory / "lib" / "typescript.js").is_file()


def find_typescript(start: Path, explicit: str, install: bool) -> Path | None:
    """The `typescript` package directory to use, or None when there is none to be had."""
    if explicit:
        candidate = Path(explicit).expanduser()
        if _is_typescript(candidate / "node_modules" / "typescript"):
            return candidate / "node_modules" / "typescript"
        return candidate if _is_typescript(candidate) else None
    for directory in (start, *start.parents):
        if _is_typescript(directory / "node_modules" / "typescript"):
            return directory / "node_modules" / "typescript"
    cached = cache_dir() / "node_modules" / "typescript"
    if _is_typescript(cached):
        return cached
    return _install(cached.parent.parent) if install else None


_install_failed: set[Path] = set()


def _install(prefix: Path) -> Path | None:
    """`npm install typescript` into the cache, once, safely when several processes race."""
    npm = shutil.which("npm")
    if npm is None or prefix in _install_failed:
        return None
    prefix.mkdir(parents=True, exist_ok=True)
    target = prefix / "node_modules" / "typescript"
    with FileLock(str(prefix / ".install.lock")):
        if not _is_typescript(target):
            command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund"]
            result = subprocess.run(
                [*command, "--silent", "--no-save", TYPESCRIPT_SPEC],
                capture_output=True,
                check=False,
                timeout=300,
            )
            if result.returncode != 0 or not _is_typescript(target):
                _install_failed.add(prefix)
                return None
    return target


def _server(node: str, typescript: Path) -> _Server | None:
    key = (node, typescript)
    with _servers_lock:
        known = _servers.get(key)
        if key not in _servers or (known is not None and known.pid != os.getpid()):
            executable = shutil.which(node)
            _servers[key] = _Server(executable, typescript) if executable else None
        return _servers[key]


def typescript_diagnostics(
    file: SourceFile, node: str, typescript: str, install: bool
) -> list[Diagnostic] | None:
    """The TypeScript parser's diagnostics for a file ([] when it parses), or None when no
    parser can be run here (no node, no typescript)."""
    kind = _KINDS.get(file.language or "")
    if kind is None or not node:
        return None
    if shutil.which(node) is None:
        return None
    location = find_typescript(file.absolute.resolve().parent, typescript, install)
    if location is None:
        return None
    server = _server(node, location.resolve())
    return None if server is None else server.parse(kind, file.text)
