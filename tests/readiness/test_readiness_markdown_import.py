"""Importing Markdown plans: the seed plan's structure survives, nothing is dropped silently."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from readiness.cli import main
from readiness.markdown_import import import_markdown
from readiness.plan import ChecksGate, CommandGate, CoverageGate, ManualGate, load_plan

# The plan the product is built around, kept beside the tests so a bare clone runs them all.
SEED_PLAN = Path(__file__).resolve().parent / "fixtures" / "seed-plan.md"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED_PLAN.read_text(encoding="utf-8")


def test_seed_plan_days_phases_sections_and_criteria(seed_text: str) -> None:
    plan = import_markdown(seed_text)

    assert len(plan.execution_order) == 5
    assert [(d.day, d.last_day) for d in plan.execution_order] == [
        (1, None),
        (2, None),
        (3, 4),
        (5, None),
        (6, None),
    ]
    phase_1, phase_2 = plan.phases
    assert [t.id for t in phase_1.tasks] == ["1.1", "1.2", "1.3"]
    assert [t.id for t in phase_2.tasks] == ["2.1", "2.2", "2.3"]
    assert phase_1.title == "Immediate Actions (Blockers)"
    assert len(plan.criteria) == 8


def test_seed_plan_tasks_keep_priority_files_and_day(seed_text: str) -> None:
    tasks = {t.id: t for p in import_markdown(seed_text).phases for t in p.tasks}

    assert tasks["1.1"].priority == "critical"
    assert tasks["1.1"].priority_note == "Blocks all test work"
    assert tasks["1.1"].files == [
        "orchestrator/package.json",
        "orchestrator/tsconfig.app.json",
        "scripts/install-all.sh",
    ]
    assert tasks["1.1"].steps[0].title == "Fix Rollup Dependencies"
    assert tasks["1.2"].files == ["orchestrator/worker/index.ts"]
    assert (tasks["1.2"].day, tasks["1.2"].order) == (1, 2)
    assert (tasks["2.1"].day, tasks["2.3"].day) == (3, 6)
    assert tasks["2.3"].priority == "medium"
    assert "apps/base/worker/database/database.ts" in tasks["2.2"].files


def test_seed_plan_criteria_become_the_right_gates(seed_text: str) -> None:
    criteria = import_markdown(seed_text).criteria

    def rules(index: int) -> list[str]:
        gate = criteria[index].gate
        assert isinstance(gate, ChecksGate)
        return gate.rules

    assert rules(0) == ["missing-dependency"]
    assert rules(1) == ["tsconfig-jsx"]
    typecheck = criteria[1].also[0]
    assert isinstance(typecheck, CommandGate)
    assert typecheck.argv == ["npm", "run", "typecheck:all"]
    lint = criteria[2].gate
    assert isinstance(lint, CommandGate)
    assert lint.argv == ["npm", "run", "lint:all"]
    assert rules(3) == ["syntax-error", "cron-handler"]
    coverage = criteria[4].gate
    assert isinstance(coverage, CoverageGate)
    assert coverage.paths == {"**/api/routes/**": 80}
    assert rules(5) == ["db-ops-access"]
    assert all(isinstance(c.gate, ManualGate) and c.gate.note for c in criteria[6:])


def test_seed_plan_lists_what_it_could_not_place(seed_text: str) -> None:
    unplaced = import_markdown(seed_text).unplaced

    assert unplaced == [
        "line 160: file to modify not in any task: `docs/development/PRODUCTION_READINESS_PLAN.md`"
        " - Reference document",
        "line 161: file to modify not in any task: `docs/development/`"
        " - Add cron monitoring runbook",
    ]


def test_unknown_structure_is_listed_not_dropped() -> None:
    text = textwrap.dedent(
        """\
        # Plan

        Intro paragraph.

        A second paragraph nobody expects.

        ## Phase 1: Setup

        Text before any section.

        ### Build it

        **Priority**: URGENT

        Plain note.

        **Files**: none here

        > a quote

        ## Execution Order

        1. **Day 1**: Build (Phase 1.1-1.3, 9.9)
        2. Sometime later

        ## Success Criteria

        - [x] Ticked already
        - [ ] Same
        - [ ] Same

        ### Stray heading
        """
    )

    plan = import_markdown(text)

    assert plan.name == "Plan"
    assert plan.description == "Intro paragraph."
    task = plan.phases[0].tasks[0]
    assert (task.id, task.title) == ("phase-1.1", "Build it")
    assert "Priority: URGENT" in task.notes
    assert "Plain note." in task.notes
    assert "**Files**: none here" in task.notes
    assert [c.id for c in plan.criteria] == ["ticked-already", "same", "same-2"]
    joined = "\n".join(plan.unplaced)
    for expected in [
        "line 5: A second paragraph nobody expects.",
        "line 9: Text before any section.",
        "line 19: > a quote",
        "line 24: execution order item: Sometime later",
        "criterion 'ticked-already' was ticked in the source",
        "line 32: Stray heading",
        "day 1: refers to unknown sections ['1.1', '1.2', '1.3', '9.9']",
    ]:
        assert expected in joined


def test_labelled_lines_nested_notes_and_coverage_paths_are_kept() -> None:
    text = textwrap.dedent(
        """\
        # Plan

        ## Phase 1: Stuff

        ### 1.1 Do a thing

        **Priority**: CRITICAL - urgent
        **Owner**: alice

        1. **Step one** (`src/a.ts`) before lunch
           - nested note
             - doubly nested note
        2. Step two

        ## Success Criteria

        - [ ] Coverage above 80% on `src/api/`
        """
    )

    plan = import_markdown(text)

    task = plan.phases[0].tasks[0]
    assert (task.priority, task.priority_note) == ("critical", "urgent")
    assert task.notes == ["Owner: alice"]
    first, second = task.steps
    assert (first.title, first.files) == ("Step one", ["src/a.ts"])
    assert first.notes == ["(`src/a.ts`) before lunch", "nested note", "doubly nested note"]
    assert (second.title, second.notes) == ("Step two", [])
    (criterion,) = plan.criteria
    assert isinstance(criterion.gate, CoverageGate)
    assert criterion.gate.paths == {"src/api/**": 80.0}


def test_cli_import_writes_yaml_that_loads_back(
    seed_text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "readiness.yaml"

    status = main(["plan", "import", str(SEED_PLAN), "-o", str(output)])

    assert status == 0
    assert load_plan(output) == import_markdown(seed_text)
    stderr = capsys.readouterr().err
    assert "unplaced: line 160" in stderr


def test_cli_import_to_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "PLAN.md"
    source.write_text("# Tiny\n\n## Success Criteria\n\n- [ ] Run `make test`\n", encoding="utf-8")

    assert main(["plan", "import", str(source)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("# Imported from PLAN.md")
    assert "argv:\n    - make\n    - test" in out


def test_cli_import_of_a_missing_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["plan", "import", str(tmp_path / "nope.md")]) == 2
    assert "nope.md: cannot read" in capsys.readouterr().err
