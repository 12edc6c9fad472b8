"""Plans shipped with the package, as starting points for a repository's own `readiness.yaml`.

They are YAML files beside this module, so `readiness plan init --template NAME` (or a reader)
gets them as text with their comments; the plan model validates them like any other plan.
"""

from __future__ import annotations

from importlib import resources

SUFFIX = ".yaml"
# Where `readiness report` looks first (readiness.plan.PLAN_FILE); not imported from there, because
# `readiness plan init` copies text and should not pay for the plan model's pydantic.
DEFAULT_OUTPUT = "readiness.yaml"


def shipped_plans() -> list[str]:
    """The names of the shipped plans, e.g. `workers-monorepo`."""
    return sorted(
        entry.name.removesuffix(SUFFIX)
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(SUFFIX)
    )


def plan_text(name: str) -> str:
    """The YAML text of a shipped plan; `KeyError` names the known ones."""
    if name not in shipped_plans():
        raise KeyError(f"no shipped plan {name!r}; known: {', '.join(shipped_plans())}")
    return resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")
