"""The audit as a function: what the CLI, the `checks` gate of `readiness` and tests call.

`audit()` returns an `AuditResult` whose `to_json()` is the published JSON contract (version 1);
other tools parse it, so fields are only ever added.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks import baseline as baseline_file
from checks.cache import Cache, default_directory
from checks.cli_support import UserError
from checks.config import Config, load
from checks.engine import analyse
from checks.files import discover, restrict
from checks.model import Finding, Severity
from checks.registry import Rule, get_rule, rule_ids, rules
from checks.snapshot import Snapshot
from checks.suppression import apply as apply_suppressions
from checks.triggers import CronTrigger, repository_cron_triggers

JSON_VERSION = 1
BINARY = "binary"  # the engine's reason for a file with a NUL byte in its first 8 KiB
__all__ = ["AuditResult", "CronTrigger", "audit", "raw_findings", "repository_cron_triggers"]


@dataclass
class AuditResult:
    """Findings that survived suppression, baseline and diff filtering, with a summary."""

    findings: list[Finding]
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    root: Path = field(default_factory=Path)
    rule_ids: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING

    @property
    def rules(self) -> list[Rule]:
        """The rules that ran (imported on demand: a warm run that reuses a snapshot of the
        previous result never loads them)."""
        return [rule for rule in rules() if rule.id in self.rule_ids]

    @property
    def failed(self) -> bool:
        """Does any finding reach the fail threshold (exit status 1)?"""
        return any(finding.severity >= self.fail_on for finding in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity.value,
                    "path": f.path,
                    "line": f.line,
                    "column": f.column,
                    "message": f.message,
                    "fingerprint": f.fingerprint,
                }
                for f in self.findings
            ],
            "summary": self.summary,
        }


def select_rules(config: Config, select: Sequence[str] | None) -> list[str]:
    """The rule ids to run: `select` (or the config's) minus the config's ignored ones."""
    known = rule_ids()
    wanted = list(select) if select else config.select
    if wanted is not None:
        unknown = [rule_id for rule_id in wanted if rule_id not in known]
        if unknown:
            listed = ", ".join(known)
            raise UserError(f"--select: unknown rule(s) {', '.join(unknown)} (known: {listed})")
    chosen = [r for r in known if (wanted is None or r in wanted) and r not in config.ignore]
    if not chosen:
        where = f" in {config.source}" if config.source is not None else ""
        raise UserError(f"no rule would run: every selected rule is ignored{where}")
    return chosen


def audit(
    root: Path,
    paths: Sequence[Path] = (),
    *,
    select: Sequence[str] | None = None,
    baseline: Path | str | None = None,
    config_file: Path | None = None,
    diff_base: str | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    fail_on: Severity | None = None,
    severity: Severity | None = None,
    configured_baseline: bool = False,
) -> AuditResult:
    """Audit the tree at `root` (restricted to `paths`, relative to `root` unless absolute).

    `exclude` replaces the configured excludes and `extend_exclude` adds to them (as the command
    line's `--exclude`/`--extend-exclude` do); `fail_on` overrides the configured threshold;
    `severity` drops findings below it. `baseline` is a file, or `REF:PATH` read from git; without
    it, and with `configured_baseline` (as the command line does), the configuration's `baseline`
    key is used; other callers (a readiness gate) see every finding unless they name one."""
    started = time.perf_counter()
    root = Path(root)
    config = load(root, config_file)
    if exclude is not None:
        config.excludes = list(exclude)
    config.excludes = [*config.excludes, *extend_exclude]
    if fail_on is not None:
        config.fail_on = fail_on
    chosen = select_rules(config, select)
    files = discover(root, config.excludes)
    targets = restrict(files, root, [Path(p) for p in paths])
    cache = Cache((cache_dir or default_directory(root)) if use_cache else None, root)
    snapshot = Snapshot.of(cache, root, files, targets, chosen, config)
    analysis = snapshot.load()
    if analysis is None:
        cache.load()
        selected = [(rule, config.options_for(rule)) for rule in map(_rule, chosen)]
        analysis = analyse(root, files, targets, selected, cache)
        if not paths:
            cache.prune(set(files))
        cache.save()
        snapshot.save(analysis)
    ran = set(chosen)
    findings, suppressed = apply_suppressions(analysis.findings, analysis.directives, ran)
    if severity is not None:
        findings = [f for f in findings if f.severity >= severity]
    baselined = 0
    if baseline is None and configured_baseline:
        baseline = config.baseline
    if baseline:
        known = baseline_file.load(str(baseline), root)
        findings, baselined = baseline_file.subtract(findings, known)
    outside_diff = 0
    if diff_base is not None:
        from checks.diff import changed_lines

        changed = changed_lines(root, diff_base)
        kept = [f for f in findings if f.path in changed and _on_changed(f, changed[f.path])]
        outside_diff = len(findings) - len(kept)
        findings = kept
    findings = sorted(set(findings), key=Finding.sort_key)
    summary = {
        "files": analysis.files,
        "analysed": analysis.analysed,
        "cached": analysis.cached,
        "rules": chosen,
        "findings": len(findings),
        "by_severity": dict(Counter(f.severity.value for f in findings)),
        "by_rule": dict(Counter(f.rule for f in findings)),
        "suppressed": suppressed,
        "baselined": baselined,
        "outside_diff": outside_diff,
        "fail_on": config.fail_on.value,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "skipped": [
            {"path": path, "reason": reason}
            for path, reason in analysis.skipped
            if reason != BINARY
        ],
        "binary": sum(1 for _, reason in analysis.skipped if reason == BINARY),
    }
    # A file git would not diff (a NUL byte near its start) is not audited, and not worth a note.
    notes = [note for note in analysis.notes if not note.endswith(f": skipped: {BINARY}")]
    return AuditResult(findings, summary, notes, root, chosen, config.fail_on)


def _rule(rule_id: str) -> Rule:
    rule = get_rule(rule_id)
    if rule is None:  # pragma: no cover - ids come from the registry
        raise UserError(f"unknown rule {rule_id}")
    return rule


def _on_changed(finding: Finding, lines: set[int] | None) -> bool:
    return lines is None or finding.line in lines


def raw_findings(root: Path, **options: Any) -> list[Finding]:
    """Every finding before baseline filtering (what `--write-baseline` records)."""
    return audit(root, **options).findings
