"""An import-linter contract type: no import cycle between any two modules.

`acyclic_siblings` sees cycles between sibling packages; this one sees every cycle between modules,
a package's `__init__` included, and function-level imports count as much as module-level ones
(grimp records both). Registered in pyproject.toml as `acyclic_modules`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    """Every module under `packages` reaches none of its importers through its own imports."""

    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        modules = {
            module
            for package in self.packages  # type: ignore[attr-defined]
            for module in {package, *graph.find_descendants(package)}
        }
        cycles: dict[frozenset[str], tuple[str, ...]] = {}
        for importer in sorted(modules):
            for imported in sorted(graph.find_modules_directly_imported_by(importer) & modules):
                back = graph.find_shortest_chain(importer=imported, imported=importer)
                if back is None:
                    continue
                cycle = (importer, *back)
                cycles.setdefault(frozenset(cycle), cycle)
        found = [_describe(graph, cycle) for cycle in _one_per_tangle(cycles.values())]
        return ContractCheck(kept=not found, metadata={"cycles": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(cycle)
            output.new_line()


def _one_per_tangle(cycles: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The shortest cycle through each group of tangled modules: breaking it shows the next one."""
    shown: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for cycle in sorted(cycles, key=lambda cycle: (len(cycle), cycle)):
        if seen.isdisjoint(cycle):
            shown.append(cycle)
        seen.update(cycle)
    return sorted(shown)


def _describe(graph: ImportGraph, cycle: tuple[str, ...]) -> str:
    """One cycle as `a -> b (l.12) -> a (l.40)`, with the line of each import."""
    steps = [cycle[0]]
    for importer, imported in itertools.pairwise(cycle):
        details = graph.get_import_details(importer=importer, imported=imported)
        lines = ",".join(str(detail["line_number"]) for detail in details)
        steps.append(f"{imported} ({importer} l.{lines})")
    return " -> ".join(steps)
