"""The `acyclic_modules` contract finds cycles that sibling-level contracts cannot see."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

from tools.import_contracts import AcyclicModulesContract


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    for module, text in modules.items():
        (package / f"{module}.py").write_text(text)


def _check(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.syspath_prepend(str(root))
    graph = grimp.build_graph(name, cache_dir=None)
    contract = AcyclicModulesContract(
        name="no cycles", session_options={}, contract_options={"packages": [name]}
    )
    check = contract.check(graph, verbose=False)
    cycles: list[str] = check.metadata["cycles"]
    assert check.kept is (not cycles)
    return cycles


def test_a_function_level_import_back_into_the_package_init_is_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "cyclicpkg",
        {
            "__init__": "from cyclicpkg.engine import run\n",
            "engine": "def run() -> None:\n    from cyclicpkg import run as again\n    again()\n",
        },
    )

    cycles = _check(tmp_path, "cyclicpkg", monkeypatch)

    assert cycles == [
        "cyclicpkg -> cyclicpkg.engine (cyclicpkg l.1) -> cyclicpkg (cyclicpkg.engine l.2)"
    ]


def test_one_way_imports_keep_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(
        tmp_path,
        "layeredpkg",
        {"__init__": "", "model": "X = 1\n", "engine": "from layeredpkg.model import X\n"},
    )

    assert _check(tmp_path, "layeredpkg", monkeypatch) == []
