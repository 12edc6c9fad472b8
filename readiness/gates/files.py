"""The `files` gate: the files a plan promises exist, and generated ones match their templates.

Freshness is asked of the generator itself (e.g. `readiness runbooks --check`), because only it
knows how to render the template; this gate only reads its verdict and keeps its diff as evidence.
"""

from __future__ import annotations

from readiness.gates.command import run_command
from readiness.gates.result import GateContext, GateResult, Status, truncate
from readiness.plan import FilesGate


def evaluate(spec: FilesGate, context: GateContext) -> GateResult:
    found: dict[str, list[str]] = {}
    for pattern in spec.exist:
        matches = sorted(p.relative_to(context.root).as_posix() for p in context.root.glob(pattern))
        found[pattern] = matches
    missing = [pattern for pattern, matches in found.items() if not matches]
    lines = [f"{pattern}: {len(matches)} file(s)" for pattern, matches in found.items()]
    details: dict[str, object] = {"exist": found, "missing": missing}
    if spec.fresh is not None:
        cwd = context.root / spec.fresh.cwd if spec.fresh.cwd else context.root
        budget = context.time_left(spec.fresh.timeout)
        outcome = run_command(spec.fresh.argv, cwd, budget, context.env)
        details["fresh_exit_code"] = outcome.exit_code
        lines.append(f"$ {' '.join(spec.fresh.argv)}\n{outcome.output}".rstrip())
        evidence = truncate("\n".join(lines))
        if outcome.problem is not None:
            return GateResult(
                "files", Status.ERROR, f"freshness check: {outcome.problem}", evidence, details
            )
        if outcome.exit_code != 0:
            stale = f"generated files are stale ({' '.join(spec.fresh.argv)} exited "
            summary = stale + f"{outcome.exit_code})"
            if missing:
                summary = f"missing {', '.join(missing)}; " + summary
            return GateResult("files", Status.FAIL, summary, evidence, details)
    evidence = truncate("\n".join(lines))
    if missing:
        status = Status.NOT_APPLICABLE if spec.missing == "not-applicable" else Status.FAIL
        return GateResult("files", status, f"missing {', '.join(missing)}", evidence, details)
    parts = [f"{sum(len(m) for m in found.values())} file(s) present"] if spec.exist else []
    parts += ["generated files fresh"] if spec.fresh is not None else []
    return GateResult("files", Status.PASS, "; ".join(parts), evidence, details)
