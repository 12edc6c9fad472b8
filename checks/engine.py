"""The audit pipeline: discover, analyse each file once (cached, in parallel when cold), run the
repo-wide rules on the gathered facts, and return raw findings for suppression and reporting.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.cache import RACY_SECONDS, Cache, Entry, Stamps, code_stamp, content_hash, stamps
from checks.model import Finding
from checks.registry import Rule, get_rule
from checks.repository import Repository, recording
from checks.source import SourceFile
from checks.suppression import MARKER, Directive, directives

MAX_BYTES = 2_000_000
# Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 200


@dataclass(frozen=True)
class Job:
    """One rule to apply in the per-file phase: `check` for per-file rules, `extract` for the
    facts of repo rules."""

    key: str
    rule_id: str
    options: Any
    extract: bool


@dataclass
class Analysis:
    """What the per-file phase and the repo rules produced, before suppression."""

    findings: list[Finding] = field(default_factory=list)
    directives: dict[str, list[Directive]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (path, reason) of every target that was not analysed: binary, huge, not UTF-8, unreadable.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Files outside the discovered tree the repo rules read; None when one changed too recently
    # for the result to be reused safely.
    dependencies: Stamps | None = field(default_factory=dict)
    files: int = 0
    analysed: int = 0
    cached: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "directives": {p: [d.to_list() for d in ds] for p, ds in self.directives.items()},
            "notes": self.notes,
            "skipped": [list(item) for item in self.skipped],
            "dependencies": self.dependencies,
            "files": self.files,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        """A stored result, as a run that analysed nothing and reused everything."""
        return cls(
            findings=[Finding.from_dict(f) for f in data["findings"]],
            directives={
                p: [Directive.from_list(d) for d in ds] for p, ds in data["directives"].items()
            },
            notes=list(data["notes"]),
            skipped=[(str(path), str(reason)) for path, reason in data.get("skipped", [])],
            dependencies=dict(data.get("dependencies") or {}),
            files=int(data["files"]),
            analysed=0,
            cached=int(data["files"]),
        )


def snapshot_key(
    root: Path, files: Sequence[str], targets: Sequence[str], rule_ids: Sequence[str], config: Any
) -> str | None:
    """A digest of everything a run's result depends on: the tool, the rules and their config,
    the targets, and the size and mtime of every discovered file (repo rules may read any of
    them). None when a file changed too recently for its mtime to be trusted."""
    from checks import __version__

    digest = hashlib.sha256(code_stamp())
    settings = (__version__, list(rule_ids), config.ignore, config.rule_options, config.excludes)
    digest.update(repr(settings).encode("utf-8"))
    if config.source is not None:
        source = Path(config.source).stat()
        digest.update(f"{config.source}:{source.st_size}:{source.st_mtime_ns}".encode())
    digest.update("\0".join(targets).encode("utf-8", errors="surrogateescape"))
    limit = (time.time() - RACY_SECONDS) * 1e9
    base = str(root) + os.sep
    parts = []
    for path in files:
        try:
            stat = os.stat(base + path)  # noqa: PTH116 - thousands of Path objects cost real time
        except OSError:
            parts.append(f"{path}\0-\n")
            continue
        if stat.st_mtime_ns > limit:
            return None
        parts.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n")
    digest.update("".join(parts).encode("utf-8", errors="surrogateescape"))
    return digest.hexdigest()


def job_key(rule: Rule, options: Any) -> str:
    digest = hashlib.sha256(repr(options).encode("utf-8")).hexdigest()[:12]
    return f"{rule.id}@{rule.version}:{digest}"


@lru_cache(maxsize=64)
def _name_matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a rule's FILES globs (name globs, and path globs when they hold a '/')."""
    from checks.globs import glob_regex

    parts = [
        glob_regex(p).pattern if "/" in p else "(?:.*/)?" + fnmatch.translate(p).removesuffix(r"\Z")
        for p in patterns
    ]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.DOTALL)


def applies(rule: Rule, path: str) -> bool:
    return _name_matcher(rule.files).fullmatch(path) is not None


def _skip_reason(data: bytes) -> str | None:
    if len(data) > MAX_BYTES:
        return f"skipped: larger than {MAX_BYTES // 1_000_000} MB"
    if b"\0" in data[:8192]:
        return "skipped: binary"
    return None


def analyse_file(root: Path, path: str, jobs: Sequence[Job], entry: Entry | None) -> Entry:
    """Apply `jobs` to one file and return its cache entry (merged into `entry` if given)."""
    absolute = root / path
    try:
        stat = absolute.stat()
        data = absolute.read_bytes()
    except OSError as error:
        return {"sha": None, "note": f"unreadable: {error.strerror}", "results": {}}
    sha = content_hash(data)
    result: Entry = {"sha": sha, "size": stat.st_size, "mtime": stat.st_mtime_ns, "results": {}}
    if entry is not None and entry.get("sha") == sha:
        result["results"] = dict(entry.get("results", {}))
        result["ignores"] = entry.get("ignores", [])
        result["note"] = entry.get("note")
        jobs = [job for job in jobs if job.key not in result["results"]]
        if not jobs:
            return result
    reason = _skip_reason(data)
    if reason is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            reason = "skipped: not UTF-8 text"
    if reason is not None:
        result["note"] = reason
        result["fresh"] = True  # read this run, even if not analysed: not a cached result
        return result
    source = SourceFile(path, absolute, data, text)
    result["fresh"] = True  # the engine counts and strips this marker
    results = result["results"]
    for job in jobs:
        rule = get_rule(job.rule_id)
        if rule is None:  # pragma: no cover - jobs are built from registered rules
            continue
        if rule.prefilter and not source.mentions(rule.prefilter):
            results[job.key] = None
        elif job.extract:
            extract = rule.extract
            results[job.key] = None if extract is None else extract(source, job.options)
        else:
            found = rule.check(source, job.options)
            results[job.key] = [finding.to_dict() for finding in found]
    if "ignores" not in result:
        found_directives = directives(source) if MARKER in text else []
        result["ignores"] = [d.to_list() for d in found_directives]
    return result


def _analyse_chunk(root: Path, items: list[tuple[str, list[Job], Entry | None]]) -> list[Entry]:
    return [analyse_file(root, path, jobs, entry) for path, jobs, entry in items]


def _analyse_all(
    root: Path, todo: list[tuple[str, list[Job], Entry | None]], workers: int
) -> list[Entry]:
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        return _analyse_chunk(root, todo)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(8, len(todo) // (workers * 8))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    context = multiprocessing.get_context(pool_start_method())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        done = pool.map(_analyse_chunk, [root] * len(chunks), chunks)
        return [entry for chunk in done for entry in chunk]


def pool_start_method() -> str:
    """`fork` starts workers fastest, but forking a process in which other threads run (the
    readiness gates run the audit in a thread; test runners and servers have theirs) can leave
    a worker waiting forever on a lock one of those threads held at the fork. So fork only when
    this is the only thread; otherwise start workers from a clean process."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if threading.active_count() == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def worker_count() -> int:
    configured = os.environ.get("READINESS_JOBS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    return os.cpu_count() or 1


def _jobs_for(path: str, jobs: Sequence[Job], rules: dict[str, Rule]) -> list[Job]:
    return [job for job in jobs if applies(rules[job.rule_id], path)]


def _missing(entry: Entry, jobs: Sequence[Job]) -> bool:
    results = entry.get("results", {})
    return any(job.key not in results for job in jobs)


def analyse(
    root: Path,
    files: Sequence[str],
    targets: Sequence[str],
    selected: Sequence[tuple[Rule, Any]],
    cache: Cache,
) -> Analysis:
    """Run every selected rule over `targets`, reusing cached per-file results."""
    analysis = Analysis(files=len(targets))
    rules = {rule.id: rule for rule, _ in selected}
    jobs = [
        Job(job_key(rule, options), rule.id, options, extract=not rule.per_file)
        for rule, options in selected
        if rule.per_file or rule.extract is not None
    ]
    entries: dict[str, Entry] = {}
    todo: list[tuple[str, list[Job], Entry | None]] = []
    base = str(root) + os.sep
    for path in targets:
        file_jobs = _jobs_for(path, jobs, rules)
        try:
            stat = os.stat(base + path)  # noqa: PTH116 - thousands of Path objects cost real time
        except OSError:
            continue  # deleted since git listed it
        entry = cache.lookup(path, stat)
        if entry is not None and not _missing(entry, file_jobs):
            entries[path] = entry
        else:
            todo.append((path, file_jobs, cache.entries.get(path)))
    for (path, _, _), entry in zip(todo, _analyse_all(root, todo, worker_count()), strict=True):
        if entry.pop("fresh", False):
            analysis.analysed += 1
        entries[path] = entry
        if entry.get("sha") is not None:
            cache.store(path, entry)
    analysis.cached = len(entries) - analysis.analysed
    facts: dict[str, dict[str, Any]] = {}
    for path in targets:
        entry = entries.get(path)
        if entry is None:
            continue
        if entry.get("note"):
            note = str(entry["note"])
            analysis.notes.append(f"{path}: {note}")
            analysis.skipped.append((path, note.removeprefix("skipped: ")))
        results = entry.get("results", {})
        for job in jobs:
            value = results.get(job.key)
            if value is None:
                continue
            if job.extract:
                facts.setdefault(job.rule_id, {})[path] = value
            else:
                analysis.findings.extend(Finding.from_dict(item) for item in value)
        if entry.get("ignores"):
            analysis.directives[path] = [Directive.from_list(d) for d in entry["ignores"]]
    with recording() as read:
        _run_repo_rules(root, files, targets, selected, facts, cache, analysis)
    analysis.dependencies = stamps(_outside(root, files, read))
    return analysis


def _outside(root: Path, files: Sequence[str], paths: set[str]) -> list[str]:
    """The recorded paths that are not discovered files (those the snapshot key covers)."""
    prefix = str(root.absolute()) + os.sep
    discovered = set(files)
    return [
        path
        for path in paths
        if not (path.startswith(prefix) and path[len(prefix) :].replace(os.sep, "/") in discovered)
    ]


def _facts_store(root: Path, repo_sources: dict[str, SourceFile], cache: Cache) -> Any:
    """`Repository.extract`: per-file facts of context files, cached by content hash."""

    memo: dict[tuple[str, str], Any] = {}

    def store(path: str, key: str, extractor: Any) -> Any:
        if (path, key) not in memo:
            memo[path, key] = compute(path, key, extractor)
        return memo[path, key]

    def compute(path: str, key: str, extractor: Any) -> Any:
        absolute = root / path
        try:
            stat = absolute.stat()
        except OSError:
            return None
        entry = cache.lookup(path, stat)
        if entry is not None and key in entry.get("extra", {}):
            return entry["extra"][key]
        try:
            data = absolute.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        sha = content_hash(data)
        entry = cache.by_hash(path, sha)
        if entry is not None and key in entry.get("extra", {}):
            return entry["extra"][key]
        source = repo_sources.get(path) or SourceFile(path, absolute, data, text)
        repo_sources[path] = source
        value = extractor(source)
        updated: Entry = dict(entry) if entry is not None else {"sha": sha, "results": {}}
        updated.update(size=stat.st_size, mtime=stat.st_mtime_ns)
        updated["extra"] = {**updated.get("extra", {}), key: value}
        cache.store(path, updated)
        return value

    return store


def _run_repo_rules(
    root: Path,
    files: Sequence[str],
    targets: Sequence[str],
    selected: Sequence[tuple[Rule, Any]],
    facts: dict[str, dict[str, Any]],
    cache: Cache,
    analysis: Analysis,
) -> None:
    repo_rules = [(rule, options) for rule, options in selected if not rule.per_file]
    if not repo_rules:
        return
    sources: dict[str, SourceFile] = {}
    repo = Repository(root, files, targets, facts, sources, _facts_store(root, sources, cache))
    for rule, options in repo_rules:
        started = time.perf_counter()
        found = [f for f in rule.check_repo(repo, options) if repo.is_target(f.path)]
        analysis.findings.extend(found)
        elapsed = time.perf_counter() - started
        if elapsed > 5:  # pragma: no cover - depends on the machine
            analysis.notes.append(f"rule {rule.id} took {elapsed:.1f} s")
