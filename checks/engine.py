"""The audit pipeline: discover, analyse each file once (cached, in parallel when cold), run the
repo-wide rules on the gathered facts, and return raw findings for suppression and reporting.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.cache import Cache, content_hash
from checks.globs import glob_regex
from checks.model import Analysis, FileResult
from checks.registry import Rule, get_rule
from checks.repository import Repository, recording
from checks.source import SourceFile
from checks.stamps import stamps
from checks.suppression import MARKER, directives

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


def job_key(rule: Rule, options: Any) -> str:
    digest = hashlib.sha256(repr(options).encode("utf-8")).hexdigest()[:12]
    return f"{rule.id}@{rule.version}:{digest}"


@lru_cache(maxsize=64)
def _name_matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a rule's FILES globs (name globs, and path globs when they hold a '/')."""
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


def analyse_file(
    root: Path, path: str, jobs: Sequence[Job], previous: FileResult | None
) -> FileResult:
    """Apply `jobs` to one file, reusing what `previous` recorded if the content is the same."""
    absolute = root / path
    try:
        stat = absolute.stat()
        data = absolute.read_bytes()
    except OSError as error:
        return FileResult(sha=None, note=f"unreadable: {error.strerror}")
    sha = content_hash(data)
    result = FileResult(sha, stat.st_size, stat.st_mtime_ns)
    if previous is not None and previous.sha == sha:
        result.note = previous.note
        result.findings = dict(previous.findings)
        result.facts = dict(previous.facts)
        result.directives = previous.directives
        result.extra = dict(previous.extra)
        jobs = [job for job in jobs if not result.has(job.key)]
        if not jobs and result.directives is not None:
            return result
    reason = _skip_reason(data)
    if reason is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            reason = "skipped: not UTF-8 text"
    result.fresh = True  # read this run, even if not analysed: not a cached result
    if reason is not None:
        result.note = reason
        result.directives = []  # suppressions are only read from files that are analysed
        return result
    source = SourceFile(path, absolute, data, text)
    for job in jobs:
        rule = get_rule(job.rule_id)
        if rule is None:  # pragma: no cover - jobs are built from registered rules
            continue
        if rule.prefilter and not source.mentions(rule.prefilter):
            if job.extract:
                result.facts[job.key] = None
            else:
                result.findings[job.key] = []
        elif job.extract:
            extract = rule.extract
            result.facts[job.key] = None if extract is None else extract(source, job.options)
        else:
            result.findings[job.key] = list(rule.check(source, job.options))
    if result.directives is None:
        result.directives = directives(source) if MARKER in text else []
    return result


# One chunk of the per-file phase: (path, jobs, what the cache recorded for the path).
Work = list[tuple[str, list[Job], FileResult | None]]


def _analyse_chunk(root: Path, items: Work) -> tuple[int, list[FileResult]]:
    """The results of one chunk, and the id of the process that produced them."""
    return os.getpid(), [analyse_file(root, path, jobs, previous) for path, jobs, previous in items]


def _analyse_all(root: Path, todo: Work, workers: int) -> tuple[list[FileResult], int]:
    """The result of every item of `todo`, in order, and how many worker processes did the
    work (0: this process did it all)."""
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        return _analyse_chunk(root, todo)[1], 0
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(8, len(todo) // (workers * 8))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    context = multiprocessing.get_context(pool_start_method())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        done = list(pool.map(_analyse_chunk, [root] * len(chunks), chunks))
    processes = {pid for pid, _ in done} - {os.getpid()}
    return [result for _, chunk in done for result in chunk], len(processes)


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


def _incomplete(result: FileResult, jobs: Sequence[Job]) -> bool:
    return result.directives is None or any(not result.has(job.key) for job in jobs)


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
    results: dict[str, FileResult] = {}
    todo: Work = []
    base = str(root) + os.sep
    for path in targets:
        file_jobs = _jobs_for(path, jobs, rules)
        try:
            stat = os.stat(base + path)  # noqa: PTH116 - thousands of Path objects cost real time
        except OSError:
            continue  # deleted since git listed it
        result = cache.lookup(path, stat)
        if result is not None and not _incomplete(result, file_jobs):
            results[path] = result
        else:
            todo.append((path, file_jobs, cache.get(path)))
    done, analysis.workers = _analyse_all(root, todo, worker_count())
    for (path, _, _), result in zip(todo, done, strict=True):
        if result.fresh:
            analysis.analysed += 1
        results[path] = result
        if result.sha is not None:
            cache.store(path, result)
    analysis.cached = len(results) - analysis.analysed
    facts: dict[str, dict[str, Any]] = {}
    for path in targets:
        result = results.get(path)
        if result is None:
            continue
        if result.note:
            analysis.notes.append(f"{path}: {result.note}")
            analysis.skipped.append((path, result.note.removeprefix("skipped: ")))
        for job in jobs:
            if job.extract:
                value = result.facts.get(job.key)
                if value is not None:
                    facts.setdefault(job.rule_id, {})[path] = value
            else:
                analysis.findings.extend(result.findings.get(job.key, ()))
        if result.directives:
            analysis.directives[path] = result.directives
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
        known = cache.lookup(path, stat)
        if known is not None and key in known.extra:
            return known.extra[key]
        try:
            data = absolute.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        sha = content_hash(data)
        known = cache.by_hash(path, sha)
        if known is not None and key in known.extra:
            return known.extra[key]
        source = repo_sources.get(path) or SourceFile(path, absolute, data, text)
        repo_sources[path] = source
        value = extractor(source)
        updated = dataclasses.replace(known) if known is not None else FileResult(sha)
        updated.size, updated.mtime = stat.st_size, stat.st_mtime_ns
        updated.extra = {**updated.extra, key: value}
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
