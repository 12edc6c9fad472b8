"""The `checks` gate: our own audit decides criteria such as "no app touches DB_OPS directly".

The audit is called in-process (`checks.api.audit`): it shares the parse cache with every other
run on the machine, and its findings become the evidence, one line per finding.
"""

from __future__ import annotations

from pathlib import Path

from checks.api import audit
from checks.cli_support import UserError
from readiness.gates.result import GateContext, GateResult, Status, truncate
from readiness.plan import ChecksGate

SHOWN_FINDINGS = 50


def evaluate(spec: ChecksGate, context: GateContext) -> GateResult:
    baseline = context.root / spec.baseline if spec.baseline else None
    config = context.root / spec.config_file if spec.config_file else None
    try:
        result = audit(
            context.root,
            tuple(Path(p) for p in spec.paths),
            select=list(spec.rules) or None,
            baseline=baseline,
            config_file=config,
        )
    except (UserError, OSError, ValueError) as error:
        return GateResult("checks", Status.ERROR, f"audit failed: {error}")
    findings = [f for f in result.findings if not spec.rules or f.rule in spec.rules]
    rules = ", ".join(spec.rules) or "all rules"
    lines = [f"{f.path}:{f.line}:{f.column}: {f.rule}: {f.message}" for f in findings]
    if len(lines) > SHOWN_FINDINGS:
        lines = [*lines[:SHOWN_FINDINGS], f"... and {len(lines) - SHOWN_FINDINGS} more"]
    details = {
        "rules": list(spec.rules),
        "max_findings": spec.max_findings,
        "audit": result.summary,
        "findings": [
            {
                "rule": f.rule,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "fingerprint": f.fingerprint,
            }
            for f in findings
        ],
    }
    evidence = truncate("\n".join(lines))
    count = len(findings)
    if count > spec.max_findings:
        summary = f"{count} finding(s) of {rules} (at most {spec.max_findings} allowed)"
        return GateResult("checks", Status.FAIL, summary, evidence, details)
    return GateResult("checks", Status.PASS, f"{count} finding(s) of {rules}", evidence, details)
