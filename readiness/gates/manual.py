"""The `manual` gate: some criteria only a person can judge; the plan records who and when."""

from __future__ import annotations

from readiness.gates.result import GateContext, GateResult, Status
from readiness.plan import ManualGate


def evaluate(spec: ManualGate, context: GateContext) -> GateResult:
    details = {"note": spec.note}
    if spec.signed_off is None:
        summary = "awaiting sign-off" + (f": {spec.note}" if spec.note else "")
        return GateResult("manual", Status.FAIL, summary, spec.note, details)
    when = spec.signed_off.at.isoformat()
    if spec.signed_off.at.isoformat()[:10] > context.now().date().isoformat():
        summary = f"sign-off by {spec.signed_off.by} is dated in the future ({when})"
        return GateResult("manual", Status.ERROR, summary, spec.note, details)
    signed = {**details, "signed_off_by": spec.signed_off.by, "signed_off_at": when}
    return GateResult(
        "manual", Status.PASS, f"signed off by {spec.signed_off.by} on {when}", spec.note, signed
    )
